<?php
// This file is part of Moodle - http://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <http://www.gnu.org/licenses/>.

namespace local_buyin;

/**
 * Leases of programmes: one moodle-buyin agent at a time per programme, site-wide.
 *
 * Two agents with different state files against the same programme would each send
 * every message again; the lease, held here in Moodle, lets the second one refuse.
 * A lease is taken for a number of seconds and renewed by its holder's runs; it lapses
 * by itself when its holder stops (a machine gone for good frees the programme at expiry).
 * Read-modify-write runs under a Moodle lock per programme, so two agents asking at
 * once cannot both get it.
 *
 * Fencing (0.4.0): each run of an agent asks with a new token and the token its last
 * granted run got (expected). While the lease runs, it is granted only to the caller
 * whose expected token is the lease's current one, whatever name it gives: a copy of an
 * agent's state, or an old backup of it, carries an older token and is refused until
 * the lease expires or is released by force. A caller without a token (an agent before
 * 0.4.0), and a lease taken by one, are matched by holder name as before.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class lease_manager {

    /** @var string the table */
    public const TABLE = 'local_buyin_lease';

    /** @var int the shortest lease, in seconds */
    public const MIN_SECONDS = 60;

    /** @var int the longest lease, in seconds (30 days) */
    public const MAX_SECONDS = 2592000;

    /** @var int seconds to wait for the per-programme lock */
    private const LOCK_WAIT = 10;

    /**
     * Take, renew or take over (once expired) the lease of a programme.
     *
     * @param string $programme the programme key
     * @param string $holder the agent asking
     * @param int $seconds how long the lease lasts from now
     * @param int $now the time
     * @param string $token the caller's new token ('' : an agent before 0.4.0)
     * @param string $expected the token of the caller's last granted run ('' : none)
     * @return \stdClass the lease as stored after the call, with acquired (bool)
     */
    public static function acquire(string $programme, string $holder, int $seconds, int $now,
            string $token = '', string $expected = ''): \stdClass {
        global $DB;
        $seconds = max(self::MIN_SECONDS, min(self::MAX_SECONDS, $seconds));
        $lock = self::lock($programme);
        try {
            $row = $DB->get_record(self::TABLE, ['programme' => $programme]);
            if (!$row) {
                $row = (object) [
                    'programme' => $programme,
                    'holder' => $holder,
                    'timeacquired' => $now,
                    'timeexpires' => $now + $seconds,
                    'timemodified' => $now,
                    'token' => $token,
                ];
                $row->id = $DB->insert_record(self::TABLE, $row);
                $row->acquired = true;
                return $row;
            }
            if ((int) $row->timeexpires > $now && !self::fits($row, $holder, $token, $expected)) {
                $row->acquired = false;
                return $row;
            }
            if ($row->holder !== $holder || (int) $row->timeexpires <= $now) {
                $row->holder = $holder;
                $row->timeacquired = $now;
            }
            if ($token !== '') {
                $row->token = $token;
            }
            $row->timeexpires = $now + $seconds;
            $row->timemodified = $now;
            $DB->update_record(self::TABLE, $row);
            $row->acquired = true;
            return $row;
        } finally {
            $lock->release();
        }
    }

    /**
     * Whether a running lease is the caller's: by token where both have one, else by name.
     *
     * @param \stdClass $row the lease
     * @param string $holder the caller's name
     * @param string $token the caller's new token
     * @param string $expected the token of the caller's last granted run
     * @return bool
     */
    private static function fits(\stdClass $row, string $holder, string $token, string $expected): bool {
        if ($token === '' || (string) $row->token === '') {
            return $row->holder === $holder;
        }
        return hash_equals((string) $row->token, $expected);
    }

    /**
     * Give the lease up, if this holder has it (or, with force, whoever has it).
     *
     * @param string $programme the programme key
     * @param string $holder the agent giving it up
     * @param bool $force remove the lease whoever holds it (the holder is gone for good)
     * @return bool whether a lease was removed
     */
    public static function release(string $programme, string $holder, bool $force = false): bool {
        global $DB;
        $lock = self::lock($programme);
        try {
            $conditions = $force ? ['programme' => $programme] : ['programme' => $programme, 'holder' => $holder];
            if (!$DB->record_exists(self::TABLE, $conditions)) {
                return false;
            }
            $DB->delete_records(self::TABLE, $conditions);
            return true;
        } finally {
            $lock->release();
        }
    }

    /**
     * The per-programme lock (as core_modinfo locks a course cache build).
     *
     * @param string $programme
     * @return \core\lock\lock
     */
    private static function lock(string $programme): \core\lock\lock {
        $factory = \core\lock\lock_config::get_lock_factory('local_buyin_lease');
        $lock = $factory->get_lock('lease_' . $programme, self::LOCK_WAIT);
        if (!$lock) {
            throw new \moodle_exception('leaselocktimeout', 'local_buyin');
        }
        return $lock;
    }
}
