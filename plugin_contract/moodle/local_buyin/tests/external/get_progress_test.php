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
 * Tests of local_buyin_get_progress.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\get_progress
 * @covers     \local_buyin\progress_reader
 */
final class get_progress_test extends \advanced_testcase {

    /**
     * Every test starts from a clean site.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
    }

    /**
     * Call the function as the web-service layer does.
     *
     * @param int $courseid
     * @param int $since
     * @param int $cursor
     * @param int $limit
     * @return array
     */
    private function call(int $courseid, int $since = 0, int $cursor = 0, int $limit = 500): array {
        $result = get_progress::execute($courseid, [], $since, $cursor, $limit);
        return external_api::clean_returnvalue(get_progress::execute_returns(), $result);
    }

    /**
     * A course with one tracked page and three learners; a fourth learner in another course.
     *
     * @return array [course, page cm, learners, other learner]
     */
    private function make_course(): array {
        $generator = $this->getDataGenerator();
        [$course] = $generator->get_plugin_generator('local_buyin')->create_signoff_course();
        $page = $generator->create_module('page', ['course' => $course->id, 'completion' => COMPLETION_TRACKING_MANUAL]);
        $learners = [];
        for ($i = 0; $i < 3; $i++) {
            $learners[] = $generator->create_and_enrol($course, 'student');
        }
        $other = $generator->create_and_enrol($generator->create_course(), 'student');
        return [$course, get_coursemodule_from_instance('page', $page->id), $learners, $other];
    }

    public function test_a_page_holds_the_course_learners_with_their_progress(): void {
        [$course, $cm, $learners, $other] = $this->make_course();
        $completion = new \completion_info($course);
        $completion->update_state($cm, COMPLETION_COMPLETE, $learners[0]->id);
        $this->setUser($this->getDataGenerator()->get_plugin_generator('local_buyin')->create_agent_user());

        $result = $this->call($course->id);

        $ids = array_column($result['learners'], 'userid');
        $this->assertEqualsCanonicalizing(array_map(fn($u) => (int) $u->id, $learners), $ids);
        $this->assertNotContains((int) $other->id, $ids);
        $this->assertSame(0, $result['nextcursor']);
        $first = $result['learners'][array_search((int) $learners[0]->id, $ids)];
        $this->assertSame((int) $cm->id, $first['activities'][0]['cmid']);
        $this->assertSame(COMPLETION_COMPLETE, $first['activities'][0]['state']);
        $this->assertSame(0, $first['enrolments'][0]['status']);
    }

    public function test_pages_by_cursor(): void {
        [$course, , $learners] = $this->make_course();
        $this->setUser($this->getDataGenerator()->get_plugin_generator('local_buyin')->create_agent_user());

        $page1 = $this->call($course->id, 0, 0, 2);
        $page2 = $this->call($course->id, 0, $page1['nextcursor'], 2);

        $this->assertCount(2, $page1['learners']);
        $this->assertNotSame(0, $page1['nextcursor']);
        $this->assertCount(1, $page2['learners']);
        $this->assertSame(0, $page2['nextcursor']);
        $all = array_merge(array_column($page1['learners'], 'userid'), array_column($page2['learners'], 'userid'));
        $this->assertEqualsCanonicalizing(array_map(fn($u) => (int) $u->id, $learners), $all);
    }

    public function test_since_returns_only_learners_with_a_change(): void {
        global $DB;
        [$course, $cm, $learners] = $this->make_course();
        $old = time() - 86400;
        $DB->set_field('user_enrolments', 'timecreated', $old);
        $DB->set_field('user_enrolments', 'timemodified', $old);
        $DB->set_field('user', 'timemodified', $old);
        $DB->set_field('role_assignments', 'timemodified', $old);
        (new \completion_info($course))->update_state($cm, COMPLETION_COMPLETE, $learners[1]->id);
        $this->setUser($this->getDataGenerator()->get_plugin_generator('local_buyin')->create_agent_user());

        $result = $this->call($course->id, $old + 3600);

        $this->assertSame([(int) $learners[1]->id], array_column($result['learners'], 'userid'));
    }

    public function test_a_learner_comes_with_what_core_enrol_get_enrolled_users_gives(): void {
        global $DB;
        [$course, , $learners, $other] = $this->make_course();
        $generator = $this->getDataGenerator();
        $field = $generator->create_custom_profile_field(['datatype' => 'text', 'shortname' => 'manager',
            'name' => 'Manager']);
        profile_save_data((object) ['id' => $learners[0]->id, 'profile_field_manager' => 'mgr1']);
        $group = $generator->create_group(['courseid' => $course->id, 'name' => 'Team mgr1']);
        $generator->create_group_member(['groupid' => $group->id, 'userid' => $learners[0]->id]);
        $this->setUser($generator->get_plugin_generator('local_buyin')->create_agent_user());

        $result = get_progress::execute($course->id, [], 0, 0, 500, ['manager']);
        $result = external_api::clean_returnvalue(get_progress::execute_returns(), $result);

        $this->assertSame(3, $result['enrolled']);
        $ids = array_column($result['learners'], 'userid');
        $first = $result['learners'][array_search((int) $learners[0]->id, $ids)];
        $this->assertSame($learners[0]->username, $first['username']);
        $this->assertSame('student', $first['roles'][0]['shortname']);
        $this->assertSame([['id' => (int) $group->id, 'name' => 'Team mgr1']], $first['groups']);
        $this->assertSame([['shortname' => 'manager', 'value' => 'mgr1']], $first['customfields']);
        $second = $result['learners'][array_search((int) $learners[1]->id, $ids)];
        $this->assertSame([], $second['customfields']);
        $this->assertSame([], $second['groups']);
    }

    public function test_since_sees_a_group_joined_and_enrolled_counts_everyone(): void {
        global $DB;
        [$course, , $learners] = $this->make_course();
        $old = time() - 86400;
        foreach (['user_enrolments' => ['timecreated', 'timemodified'], 'user' => ['timemodified'],
                'role_assignments' => ['timemodified']] as $table => $columns) {
            foreach ($columns as $column) {
                $DB->set_field($table, $column, $old);
            }
        }
        $generator = $this->getDataGenerator();
        $group = $generator->create_group(['courseid' => $course->id]);
        $generator->create_group_member(['groupid' => $group->id, 'userid' => $learners[2]->id]);
        $this->setUser($generator->get_plugin_generator('local_buyin')->create_agent_user());

        $result = $this->call($course->id, $old + 3600);

        $this->assertSame([(int) $learners[2]->id], array_column($result['learners'], 'userid'));
        $this->assertSame(3, $result['enrolled']);
    }

    public function test_requires_the_agent_capability(): void {
        [$course] = $this->make_course();
        $this->setUser($this->getDataGenerator()->create_user());

        $this->expectException(\moodle_exception::class);
        get_progress::execute($course->id);
    }
}
