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

namespace local_buyin\privacy;

use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;

/**
 * Tests of the privacy provider of local_buyin.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\privacy\provider
 */
final class provider_test extends \core_privacy\tests\provider_testcase {

    /** @var \stdClass */
    private $course1;
    /** @var \stdClass */
    private $course2;
    /** @var \stdClass learner in course 1 */
    private $learner;
    /** @var \stdClass another learner in both courses */
    private $learner2;
    /** @var \stdClass manager of both learners */
    private $manager;
    /** @var \stdClass decided learner2's request in course 2 */
    private $decider;

    /**
     * Course 1: learner (requested, manager), learner2 (requested, manager).
     * Course 2: learner2 (signed by decider, with a comment, manager).
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        /** @var \local_buyin_generator $generator */
        $generator = $this->getDataGenerator()->get_plugin_generator('local_buyin');
        [$this->course1] = $generator->create_signoff_course();
        [$this->course2] = $generator->create_signoff_course();
        $this->learner = $this->getDataGenerator()->create_and_enrol($this->course1, 'student');
        $this->learner2 = $this->getDataGenerator()->create_and_enrol($this->course1, 'student');
        $this->getDataGenerator()->enrol_user($this->learner2->id, $this->course2->id, 'student');
        $this->manager = $this->getDataGenerator()->create_user();
        $this->decider = $this->getDataGenerator()->create_user();

        $generator->create_signoff(['courseid' => $this->course1->id, 'userid' => $this->learner->id,
            'managerid' => $this->manager->id]);
        $generator->create_signoff(['courseid' => $this->course1->id, 'userid' => $this->learner2->id,
            'managerid' => $this->manager->id]);
        $generator->create_signoff(['courseid' => $this->course2->id, 'userid' => $this->learner2->id,
            'managerid' => $this->manager->id, 'status' => 'signed', 'timedecided' => time(),
            'decidedby' => $this->decider->id, 'comment' => 'Signed on the floor']);
    }

    /**
     * The context ids a user has data in.
     *
     * @param int $userid
     * @return int[] sorted
     */
    private function contextids_of(int $userid): array {
        $ids = provider::get_contexts_for_userid($userid)->get_contextids();
        $ids = array_map('intval', $ids);
        sort($ids);
        return $ids;
    }

    public function test_get_metadata(): void {
        $collection = provider::get_metadata(new collection('local_buyin'));
        $items = $collection->get_collection();
        $this->assertCount(2, $items);
        $table = $items[0];
        $this->assertSame('local_buyin_signoff', $table->get_name());
        $fields = $table->get_privacy_fields();
        foreach (['userid', 'managerid', 'decidedby', 'comment', 'timerequested', 'timedecided', 'timemodified'] as $field) {
            $this->assertArrayHasKey($field, $fields);
        }
    }

    public function test_get_contexts_for_userid(): void {
        $ctx1 = (int) \context_course::instance($this->course1->id)->id;
        $ctx2 = (int) \context_course::instance($this->course2->id)->id;
        $both = [$ctx1, $ctx2];
        sort($both);

        $this->assertSame([$ctx1], $this->contextids_of($this->learner->id));
        $this->assertSame($both, $this->contextids_of($this->learner2->id));
        $this->assertSame($both, $this->contextids_of($this->manager->id));
        $this->assertSame([$ctx2], $this->contextids_of($this->decider->id));
        $this->assertSame([], $this->contextids_of($this->getDataGenerator()->create_user()->id));
    }

    public function test_get_users_in_context(): void {
        $context = \context_course::instance($this->course2->id);
        $userlist = new userlist($context, 'local_buyin');
        provider::get_users_in_context($userlist);
        $ids = array_map('intval', $userlist->get_userids());
        sort($ids);
        $expected = [(int) $this->learner2->id, (int) $this->manager->id, (int) $this->decider->id];
        sort($expected);
        $this->assertSame($expected, $ids);
    }

    public function test_export_user_data(): void {
        $context = \context_course::instance($this->course2->id);
        $contextlist = new approved_contextlist($this->decider, 'local_buyin', [$context->id]);
        provider::export_user_data($contextlist);

        $writer = writer::with_context($context);
        $this->assertTrue($writer->has_any_data());
        $data = $writer->get_data([get_string('privacy:path', 'local_buyin')]);
        $this->assertCount(1, $data->signoffs);
        $this->assertSame('signed', $data->signoffs[0]->status);
        $this->assertSame('Signed on the floor', $data->signoffs[0]->comment);
        $this->assertSame(get_string('privacy:role:decider', 'local_buyin'), $data->signoffs[0]->yourrole);
    }

    public function test_delete_data_for_all_users_in_context(): void {
        global $DB;
        provider::delete_data_for_all_users_in_context(\context_course::instance($this->course1->id));

        $this->assertEquals(0, $DB->count_records('local_buyin_signoff', ['courseid' => $this->course1->id]));
        $this->assertEquals(1, $DB->count_records('local_buyin_signoff', ['courseid' => $this->course2->id]));
    }

    public function test_delete_data_for_user_as_learner(): void {
        global $DB;
        $context = \context_course::instance($this->course1->id);
        provider::delete_data_for_user(new approved_contextlist($this->learner2, 'local_buyin', [$context->id]));

        $this->assertFalse($DB->record_exists('local_buyin_signoff',
            ['courseid' => $this->course1->id, 'userid' => $this->learner2->id]));
        // Only the approved context: the request in course 2 stays.
        $this->assertTrue($DB->record_exists('local_buyin_signoff',
            ['courseid' => $this->course2->id, 'userid' => $this->learner2->id]));
        $this->assertTrue($DB->record_exists('local_buyin_signoff', ['userid' => $this->learner->id]));
    }

    public function test_delete_data_for_user_as_manager_and_decider(): void {
        global $DB;
        $ctx1 = \context_course::instance($this->course1->id);
        $ctx2 = \context_course::instance($this->course2->id);
        provider::delete_data_for_user(new approved_contextlist($this->manager, 'local_buyin', [$ctx1->id, $ctx2->id]));
        provider::delete_data_for_user(new approved_contextlist($this->decider, 'local_buyin', [$ctx2->id]));

        // The learners' requests stay, without the manager.
        $this->assertEquals(3, $DB->count_records('local_buyin_signoff'));
        $this->assertEquals(0, $DB->count_records('local_buyin_signoff', ['managerid' => $this->manager->id]));
        // The decision stays, without who made it and what they wrote.
        $signed = $DB->get_record('local_buyin_signoff', ['courseid' => $this->course2->id], '*', MUST_EXIST);
        $this->assertSame('signed', $signed->status);
        $this->assertNull($signed->decidedby);
        $this->assertNull($signed->comment);
        $this->assertSame([], $this->contextids_of($this->manager->id));
        $this->assertSame([], $this->contextids_of($this->decider->id));
    }

    public function test_delete_data_for_users(): void {
        global $DB;
        $context = \context_course::instance($this->course1->id);
        $userlist = new approved_userlist($context, 'local_buyin', [$this->learner->id, $this->manager->id]);
        provider::delete_data_for_users($userlist);

        $this->assertFalse($DB->record_exists('local_buyin_signoff', ['userid' => $this->learner->id]));
        $remaining = $DB->get_record('local_buyin_signoff',
            ['courseid' => $this->course1->id, 'userid' => $this->learner2->id], '*', MUST_EXIST);
        $this->assertEquals(0, $remaining->managerid);
        // Course 2 was not in the list.
        $this->assertEquals($this->manager->id,
            $DB->get_field('local_buyin_signoff', 'managerid', ['courseid' => $this->course2->id]));
    }
}
