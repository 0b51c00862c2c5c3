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


namespace local_buyin\external;

use core_external\external_api;

/**
 * Tests of local_buyin_request_signoffs.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\request_signoffs
 * @covers     \local_buyin\signoff_manager
 */
final class request_signoffs_test extends \advanced_testcase {

    /** @var \local_buyin_generator */
    private $generator;

    /**
     * Every test starts from a clean site.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $this->generator = $this->getDataGenerator()->get_plugin_generator('local_buyin');
    }

    /**
     * Call the function as the web-service layer does: execute, then clean the return value.
     *
     * @param array $requests
     * @return array
     */
    private function call(array $requests): array {
        $result = request_signoffs::execute($requests);
        return external_api::clean_returnvalue(request_signoffs::execute_returns(), $result);
    }

    public function test_creates_a_request(): void {
        global $DB;
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call([['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id]]);

        $this->assertCount(1, $result['requests']);
        $this->assertEmpty($result['warnings']);
        $request = $result['requests'][0];
        $this->assertEquals($course->id, $request['courseid']);
        $this->assertEquals($learner->id, $request['userid']);
        $this->assertEquals($manager->id, $request['managerid']);
        $this->assertSame('requested', $request['status']);
        $this->assertGreaterThan(0, $request['timerequested']);
        $row = $DB->get_record('local_buyin_signoff', ['id' => $request['id']], '*', MUST_EXIST);
        $this->assertNull($row->timedecided);
        $this->assertNull($row->decidedby);
    }

    public function test_is_idempotent_and_keeps_timerequested(): void {
        global $DB;
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $old = time() - 3 * DAYSECS;
        $existing = $this->generator->create_signoff([
            'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
            'timerequested' => $old, 'timemodified' => $old,
        ]);
        $this->setUser($this->generator->create_agent_user());

        $item = ['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id];
        $first = $this->call([$item]);
        $second = $this->call([$item]);

        $this->assertSame($first, $second);
        $this->assertEquals($existing->id, $first['requests'][0]['id']);
        $this->assertEquals($old, $first['requests'][0]['timerequested']);
        $this->assertEquals(1, $DB->count_records('local_buyin_signoff'));
        // Nothing changed, so the change marker did not move either.
        $this->assertEquals($old, $DB->get_field('local_buyin_signoff', 'timemodified', ['id' => $existing->id]));
    }

    public function test_a_changed_manager_replaces_the_old_one(): void {
        global $DB;
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $newmanager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $old = time() - DAYSECS;
        $existing = $this->generator->create_signoff([
            'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
            'timerequested' => $old, 'timemodified' => $old,
        ]);
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call([['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $newmanager->id]]);

        $this->assertEquals($existing->id, $result['requests'][0]['id']);
        $this->assertEquals($newmanager->id, $result['requests'][0]['managerid']);
        $this->assertEquals($old, $result['requests'][0]['timerequested']);
        $row = $DB->get_record('local_buyin_signoff', ['id' => $existing->id]);
        $this->assertEquals($newmanager->id, $row->managerid);
        $this->assertGreaterThan($old, (int) $row->timemodified);
    }

    public function test_a_decided_request_is_left_as_it_is(): void {
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $other = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $this->generator->create_signoff([
            'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
            'status' => 'signed', 'timedecided' => time(), 'decidedby' => $manager->id,
        ]);
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call([['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $other->id]]);

        $this->assertSame('signed', $result['requests'][0]['status']);
        $this->assertEquals($manager->id, $result['requests'][0]['managerid']);
    }

    public function test_a_cancelled_request_is_reopened(): void {
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $old = time() - 10 * DAYSECS;
        $this->generator->create_signoff([
            'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
            'status' => 'cancelled', 'timerequested' => $old, 'timemodified' => $old,
        ]);
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call([['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id]]);

        $this->assertSame('requested', $result['requests'][0]['status']);
        $this->assertGreaterThan($old, $result['requests'][0]['timerequested']);
    }

    public function test_bad_items_are_skipped_with_warnings(): void {
        global $DB;
        [$course] = $this->generator->create_signoff_course();
        $plaincourse = $this->getDataGenerator()->create_course(['enablecompletion' => 1]);
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $suspended = $this->getDataGenerator()->create_user(['suspended' => 1]);
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call([
            ['courseid' => $course->id + 1000, 'userid' => $learner->id, 'managerid' => $manager->id],
            ['courseid' => $course->id, 'userid' => $learner->id + 1000, 'managerid' => $manager->id],
            ['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id + 1000],
            ['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $suspended->id],
            ['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $learner->id],
            ['courseid' => $plaincourse->id, 'userid' => $learner->id, 'managerid' => $manager->id],
            ['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id],
        ]);

        $codes = array_column($result['warnings'], 'warningcode', 'itemid');
        $this->assertSame([
            0 => 'invalidcourseid',
            1 => 'invaliduserid',
            2 => 'invalidmanagerid',
            3 => 'managersuspended',
            4 => 'selfsignoff',
            5 => 'norolecriterion',
        ], $codes);
        $this->assertCount(1, $result['requests']);
        $this->assertEquals(1, $DB->count_records('local_buyin_signoff'));
    }

    public function test_requires_the_agent_capability(): void {
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $this->setUser($manager);

        $this->expectException(\required_capability_exception::class);
        request_signoffs::execute([['courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id]]);
    }
}
