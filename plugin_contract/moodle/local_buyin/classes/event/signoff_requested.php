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
 * A manager's sign-off of a learner's course completion was requested (or re-requested after a cancellation).
 *
 * objectid: the local_buyin_signoff row; relateduserid: the learner; context: the course.
 * other: managerid.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class signoff_requested extends signoff_event {

    /** @var string a request made */
    protected const CRUD = 'c';

    /**
     * Localised name.
     *
     * @return string
     */
    public static function get_name(): string {
        return get_string('eventsignoffrequested', 'local_buyin');
    }

    /**
     * Description for the logs.
     *
     * @return string
     */
    public function get_description(): string {
        return "The user with id '$this->userid' asked the user with id '{$this->other['managerid']}' to sign off the completion of the user with id '$this->relateduserid' in the course with id '$this->courseid'.";
    }
}
