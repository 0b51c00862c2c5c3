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
 * Tests of local_buyin_complete_activities.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\complete_activities
 */
final class complete_activities_test extends \advanced_testcase {

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
     * @param array $items
     * @return array
     */
    private function call(array $items): array {
        return external_api::clean_returnvalue(complete_activities::execute_returns(), complete_activities::execute($items));
    }

    /**
     * A course with a tracked and an untracked page and a learner.
     *
     * @return array [course, tracked cm, untracked cm, learner]
     */
    private function make_course(): array {
        $generator = $this->getDataGenerator();
        [$course] = $generator->get_plugin_generator('local_buyin')->create_signoff_course();
        $tracked = $generator->create_module('page', ['course' => $course->id, 'completion' => COMPLETION_TRACKING_MANUAL]);
        $untracked = $generator->create_module('page', ['course' => $course->id, 'completion' => COMPLETION_TRACKING_NONE]);
        $learner = $generator->create_and_enrol($course, 'student');
        return [$course, get_coursemodule_from_instance('page', $tracked->id),
            get_coursemodule_from_instance('page', $untracked->id), $learner];
    }

    public function test_applies_each_item_with_its_own_result(): void {
        [$course, $tracked, $untracked, $learner] = $this->make_course();
        $this->setAdminUser();

        $result = $this->call([
            ['userid' => $learner->id, 'cmid' => $tracked->id, 'newstate' => COMPLETION_COMPLETE],
            ['userid' => $learner->id, 'cmid' => $untracked->id, 'newstate' => COMPLETION_COMPLETE],
        ]);

        $this->assertTrue($result['items'][0]['status']);
        $this->assertSame(COMPLETION_COMPLETE, $result['items'][0]['state']);
        $this->assertFalse($result['items'][1]['status']);
        $this->assertSame('nottracked', $result['items'][1]['warningcode']);
        $data = (new \completion_info($course))->get_data($tracked, false, $learner->id);
        $this->assertEquals(COMPLETION_COMPLETE, $data->completionstate);
        $this->assertNotNull($data->overrideby);
    }

    public function test_an_item_without_the_override_capability_fails_alone(): void {
        [$course, $tracked, , $learner] = $this->make_course();
        [$course2, $tracked2, , $learner2] = $this->make_course();
        $teacher = $this->getDataGenerator()->create_and_enrol($course2, 'editingteacher');
        $this->setUser($teacher);

        $result = $this->call([
            ['userid' => $learner->id, 'cmid' => $tracked->id, 'newstate' => COMPLETION_COMPLETE],
            ['userid' => $learner2->id, 'cmid' => $tracked2->id, 'newstate' => COMPLETION_COMPLETE],
        ]);

        $this->assertFalse($result['items'][0]['status']);
        $this->assertNotSame('', $result['items'][0]['warningcode']);
        $this->assertTrue($result['items'][1]['status']);
        $data = (new \completion_info($course))->get_data($tracked, false, $learner->id);
        $this->assertEquals(COMPLETION_INCOMPLETE, $data->completionstate);
    }
}
