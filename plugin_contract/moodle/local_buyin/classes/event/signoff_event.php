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

namespace local_buyin\event;

/**
 * What the two sign-off events share: the local_buyin_signoff row, the learner, the
 * course, the manager asked (other['managerid']) and the page where managers decide.
 *
 * objectid: the local_buyin_signoff row; relateduserid: the learner; context: the course.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
abstract class signoff_event extends \core\event\base {

    /** @var string create, read, update or delete: set by each event */
    protected const CRUD = 'c';

    /**
     * Init.
     */
    protected function init(): void {
        $this->data['crud'] = static::CRUD;
        $this->data['edulevel'] = self::LEVEL_TEACHING;
        $this->data['objecttable'] = 'local_buyin_signoff';
    }

    /**
     * Where the decision is made.
     *
     * @return \moodle_url
     */
    public function get_url(): \moodle_url {
        return new \moodle_url('/local/buyin/index.php');
    }

    /**
     * The mapping of objectid for backup and restore.
     *
     * @return array
     */
    public static function get_objectid_mapping(): array {
        return ['db' => 'local_buyin_signoff', 'restore' => \core\event\base::NOT_MAPPED];
    }

    /**
     * The mapping of 'other' ids for backup and restore.
     *
     * @return array
     */
    public static function get_other_mapping(): array {
        return ['managerid' => ['db' => 'user', 'restore' => 'user']];
    }

    /**
     * Check the data.
     */
    protected function validate_data(): void {
        parent::validate_data();
        if (!isset($this->relateduserid)) {
            throw new \coding_exception('relateduserid (the learner) must be set');
        }
        if (!isset($this->other['managerid'])) {
            throw new \coding_exception("other['managerid'] must be set");
        }
    }
}
