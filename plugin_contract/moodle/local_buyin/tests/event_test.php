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
 * Sign-off requests and decisions are on record as events.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\event\signoff_requested
 * @covers     \local_buyin\event\signoff_decided
 */
final class event_test extends \advanced_testcase {

    public function test_a_request_and_a_decision_are_logged(): void {
        $this->resetAfterTest();
        $generator = $this->getDataGenerator();
        [$course] = $generator->get_plugin_generator('local_buyin')->create_signoff_course();
        $learner = $generator->create_and_enrol($course, 'student');
        $manager = $generator->create_and_enrol($course, 'editingteacher');
        $sink = $this->redirectEvents();

        $row = signoff_manager::upsert_request($course->id, $learner->id, $manager->id);
        signoff_manager::record_decision($course->id, $learner->id, signoff_manager::STATUS_REJECTED, 'Not yet',
            $manager->id);

        $events = array_values(array_filter($sink->get_events(),
            fn($e) => $e instanceof event\signoff_requested || $e instanceof event\signoff_decided));
        $this->assertCount(2, $events);
        $this->assertInstanceOf(event\signoff_requested::class, $events[0]);
        $this->assertEquals($row->id, $events[0]->objectid);
        $this->assertEquals($learner->id, $events[0]->relateduserid);
        $this->assertEquals($manager->id, $events[0]->other['managerid']);
        $this->assertInstanceOf(event\signoff_decided::class, $events[1]);
        $this->assertSame('rejected', $events[1]->other['decision']);
        $this->assertEquals($course->id, $events[1]->courseid);
    }
}
