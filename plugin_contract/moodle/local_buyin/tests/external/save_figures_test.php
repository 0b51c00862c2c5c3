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
use local_buyin\figures_manager;

/**
 * Tests of local_buyin_save_figures.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\save_figures
 */
final class save_figures_test extends \advanced_testcase {

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
        return external_api::clean_returnvalue(save_figures::execute_returns(), save_figures::execute($items));
    }

    /**
     * One item.
     *
     * @param int $courseid
     * @param int $userid
     * @param array $figures
     * @param int $managerid
     * @param string $role
     * @return array
     */
    private function item(int $courseid, int $userid, array $figures, int $managerid = 0, string $role = 'learner'): array {
        return ['courseid' => $courseid, 'userid' => $userid, 'role' => $role, 'managerid' => $managerid,
            'figures' => json_encode($figures)];
    }

    public function test_the_agent_stores_and_replaces_figures_each_with_its_result(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course();
        $learner = $generator->create_and_enrol($course, 'student');
        $manager = $generator->create_user();
        $this->setUser($generator->get_plugin_generator('local_buyin')->create_agent_user());

        $result = $this->call([
            $this->item($course->id, $learner->id, ['stage' => 'in progress', 'precheck' => ['Closing' => 0.5]],
                $manager->id),
            $this->item($course->id, $manager->id, ['topics' => ['Closing']], 0, 'manager'),
            $this->item($course->id, $learner->id, ['stage' => 'x'], 0, 'teacher'),
            $this->item($course->id, $learner->id, [1, 2], $manager->id),
            $this->item($course->id, -5, ['stage' => 'x']),
        ]);

        $this->assertSame([true, true, false, false, false], array_column($result['items'], 'status'));
        $this->assertSame(['', '', 'invalidrole', 'invalidfigures', 'invaliduserid'],
            array_column($result['items'], 'warningcode'));
        $this->assertSame(['stage' => 'in progress', 'precheck' => ['Closing' => 0.5]],
            figures_manager::get_learner($course->id, $learner->id, $learner->id));

        // The next push replaces the row, and names a new manager.
        $other = $generator->create_user();
        $result = $this->call([$this->item($course->id, $learner->id, ['stage' => 'complete'], $other->id)]);
        $this->assertTrue($result['items'][0]['status']);
        $this->assertSame(1, $GLOBALS['DB']->count_records(figures_manager::TABLE,
            ['courseid' => $course->id, 'userid' => $learner->id, 'role' => 'learner']));
        $this->assertNull(figures_manager::get_learner($course->id, $learner->id, $manager->id));
        $this->assertSame(['stage' => 'complete'], figures_manager::get_learner($course->id, $learner->id, $other->id));
    }

    public function test_a_user_without_the_agent_capability_stores_nothing(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course();
        $learner = $generator->create_and_enrol($course, 'student');
        // The learner tries to write their own figures, and a manager's relation.
        $this->setUser($learner);

        $result = $this->call([$this->item($course->id, $learner->id, ['stage' => 'complete'], $learner->id)]);

        $this->assertFalse($result['items'][0]['status']);
        $this->assertSame('nopermissions', $result['items'][0]['warningcode']);
        $this->assertSame(0, $GLOBALS['DB']->count_records(figures_manager::TABLE));
    }

    public function test_a_course_that_does_not_exist_is_refused_for_its_items_only(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course();
        $learner = $generator->create_and_enrol($course, 'student');
        $this->setUser($generator->get_plugin_generator('local_buyin')->create_agent_user());

        $result = $this->call([
            $this->item($course->id + 1000, $learner->id, ['stage' => 'x']),
            $this->item($course->id, $learner->id, ['stage' => 'in progress']),
        ]);

        $this->assertFalse($result['items'][0]['status']);
        $this->assertTrue($result['items'][1]['status']);
    }

    public function test_more_than_the_limit_in_one_call_is_refused(): void {
        $this->setAdminUser();
        $items = array_fill(0, figures_manager::MAX_ITEMS + 1, $this->item(1, 1, []));
        $this->expectException(\invalid_parameter_exception::class);
        save_figures::execute($items);
    }
}
