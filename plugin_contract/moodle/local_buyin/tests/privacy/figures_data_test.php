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
use local_buyin\figures_manager;

/**
 * Tests of the privacy of local_buyin_figures, through the plugin's provider.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\privacy\figures_data
 * @covers     \local_buyin\privacy\provider
 */
final class figures_data_test extends \core_privacy\tests\provider_testcase {

    /** @var \stdClass */
    private $course;
    /** @var \stdClass */
    private $learner;
    /** @var \stdClass */
    private $manager;

    /**
     * One course: the learner's figures naming the manager, and the manager's poll answer.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $dg = $this->getDataGenerator();
        $generator = $dg->get_plugin_generator('local_buyin');
        $this->course = $dg->create_course();
        $this->learner = $dg->create_user();
        $this->manager = $dg->create_user();
        $generator->create_figures($this->course->id, $this->learner->id, ['stage' => 'complete'], $this->manager->id);
        $generator->create_figures($this->course->id, $this->manager->id, ['topics' => ['Closing']], 0,
            figures_manager::ROLE_MANAGER);
    }

    public function test_metadata_declares_the_table(): void {
        $items = provider::get_metadata(new collection('local_buyin'))->get_collection();
        $tables = array_map(fn($item) => $item->get_name(), $items);
        $this->assertContains('local_buyin_figures', $tables);
    }

    public function test_contexts_and_users_include_learner_and_manager(): void {
        $context = \context_course::instance($this->course->id);
        foreach ([$this->learner, $this->manager] as $user) {
            $this->assertContains($context->id, provider::get_contexts_for_userid($user->id)->get_contextids());
        }
        $userlist = new userlist($context, 'local_buyin');
        provider::get_users_in_context($userlist);
        $this->assertEqualsCanonicalizing([$this->learner->id, $this->manager->id], $userlist->get_userids());
    }

    public function test_export_gives_the_learner_their_figures(): void {
        $context = \context_course::instance($this->course->id);
        $this->export_context_data_for_user($this->learner->id, $context, 'local_buyin');
        $data = writer::with_context($context)->get_data([get_string('privacy:path:figures', 'local_buyin')]);
        $this->assertCount(1, $data->figures);
        $this->assertSame(['stage' => 'complete'], $data->figures[0]->figures);
    }

    public function test_deleting_the_manager_keeps_the_learners_figures_without_them(): void {
        global $DB;
        $context = \context_course::instance($this->course->id);
        provider::delete_data_for_user(new approved_contextlist($this->manager, 'local_buyin', [$context->id]));
        $this->assertFalse($DB->record_exists(figures_manager::TABLE, ['userid' => $this->manager->id]));
        $row = $DB->get_record(figures_manager::TABLE, ['userid' => $this->learner->id], '*', MUST_EXIST);
        $this->assertEquals(0, $row->managerid);
    }

    public function test_deleting_users_and_the_context(): void {
        global $DB;
        $context = \context_course::instance($this->course->id);
        provider::delete_data_for_users(new approved_userlist($context, 'local_buyin', [$this->learner->id]));
        $this->assertFalse($DB->record_exists(figures_manager::TABLE, ['userid' => $this->learner->id]));
        $this->assertTrue($DB->record_exists(figures_manager::TABLE, ['userid' => $this->manager->id]));
        provider::delete_data_for_all_users_in_context($context);
        $this->assertSame(0, $DB->count_records(figures_manager::TABLE));
    }
}
