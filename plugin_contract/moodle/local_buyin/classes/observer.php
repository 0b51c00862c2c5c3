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
 * Event observers: keep requests in step with enrolments, courses and users.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {

    /**
     * A learner's last enrolment in a course is gone: cancel their open request there.
     *
     * @param \core\event\user_enrolment_deleted $event
     */
    public static function user_enrolment_deleted(\core\event\user_enrolment_deleted $event): void {
        $other = $event->other;
        if (empty($other['userenrolment']['lastenrol'])) {
            // Still enrolled by another method.
            return;
        }
        signoff_manager::cancel_open_request((int) $event->courseid, (int) $event->relateduserid);
    }

    /**
     * A course is deleted: its requests and figures go with it.
     *
     * @param \core\event\course_deleted $event
     */
    public static function course_deleted(\core\event\course_deleted $event): void {
        global $DB;
        $DB->delete_records(signoff_manager::TABLE, ['courseid' => (int) $event->objectid]);
        privacy\figures_data::delete_course((int) $event->objectid);
    }

    /**
     * A user is deleted: remove them from every request and their figures, as the privacy provider does.
     *
     * @param \core\event\user_deleted $event
     */
    public static function user_deleted(\core\event\user_deleted $event): void {
        privacy\provider::delete_user_from_requests((int) $event->objectid);
    }
}
