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
 * Tests of local_buyin_get_signoffs.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\get_signoffs
 * @covers     \local_buyin\signoff_manager::get_changes
 */
final class get_signoffs_test extends \advanced_testcase {

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
     * Call the function as the web-service layer does.
     *
     * @param int $since
     * @param int $courseid
     * @param int $limitfrom
     * @param int $limitnumber
     * @return array
     */
    private function call(int $since, int $courseid = 0, int $limitfrom = 0, int $limitnumber = 500): array {
        $result = get_signoffs::execute($since, $courseid, $limitfrom, $limitnumber);
        return external_api::clean_returnvalue(get_signoffs::execute_returns(), $result);
    }

    /**
     * Two courses; four requests modified at t0+1 .. t0+4 (course 1: 1, 3, 4; course 2: 2).
     *
     * @return array [t0, course1, course2, rows]
     */
    private function make_requests(): array {
        [$course1] = $this->generator->create_signoff_course();
        [$course2] = $this->generator->create_signoff_course();
        $manager = $this->getDataGenerator()->create_user();
        $t0 = 1700000000;
        $rows = [];
        foreach ([[$course1, 1], [$course2, 2], [$course1, 3], [$course1, 4]] as [$course, $offset]) {
            $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
            $rows[$offset] = $this->generator->create_signoff([
                'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
                'timerequested' => $t0, 'timemodified' => $t0 + $offset,
            ]);
        }
        return [$t0, $course1, $course2, $rows];
    }

    public function test_returns_changes_since_a_time_in_order(): void {
        [$t0, , , $rows] = $this->make_requests();
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call($t0 + 2);

        $this->assertSame([(int) $rows[2]->id, (int) $rows[3]->id, (int) $rows[4]->id],
            array_column($result['signoffs'], 'id'));
        $this->assertFalse($result['hasmore']);
        $first = $result['signoffs'][0];
        $this->assertSame('requested', $first['status']);
        $this->assertNull($first['timedecided']);
        $this->assertNull($first['decidedby']);
        $this->assertNull($first['comment']);
        $this->assertEquals($t0 + 2, $first['timemodified']);
    }

    public function test_filters_by_course(): void {
        [$t0, $course1, , $rows] = $this->make_requests();
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call($t0, $course1->id);

        $this->assertSame([(int) $rows[1]->id, (int) $rows[3]->id, (int) $rows[4]->id],
            array_column($result['signoffs'], 'id'));
    }

    public function test_pages_with_hasmore(): void {
        [$t0, , , $rows] = $this->make_requests();
        $this->setUser($this->generator->create_agent_user());

        $page1 = $this->call($t0, 0, 0, 3);
        $page2 = $this->call($t0, 0, 3, 3);

        $this->assertCount(3, $page1['signoffs']);
        $this->assertTrue($page1['hasmore']);
        $this->assertSame([(int) $rows[4]->id], array_column($page2['signoffs'], 'id'));
        $this->assertFalse($page2['hasmore']);
    }

    public function test_unknown_course_gives_a_warning(): void {
        [$t0, $course1] = $this->make_requests();
        $this->setUser($this->generator->create_agent_user());

        $result = $this->call($t0, $course1->id + 1000);

        $this->assertSame([], $result['signoffs']);
        $this->assertSame('invalidcourseid', $result['warnings'][0]['warningcode']);
    }

    public function test_requires_the_agent_capability(): void {
        $this->make_requests();
        $this->setUser($this->getDataGenerator()->create_user());

        $this->expectException(\required_capability_exception::class);
        get_signoffs::execute(0);
    }
}
