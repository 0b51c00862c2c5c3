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
 * Tests of local_buyin_record_signoff.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\record_signoff
 * @covers     \local_buyin\signoff_manager
 */
final class record_signoff_test extends \advanced_testcase {

    /** @var \local_buyin_generator */
    private $generator;

    /**
     * Every test starts from a clean site.
     */
    protected function setUp(): void {
        global $CFG;
        parent::setUp();
        require_once($CFG->libdir . '/completionlib.php');
        $this->resetAfterTest();
        $this->generator = $this->getDataGenerator()->get_plugin_generator('local_buyin');
    }

    /**
     * Call the function as the web-service layer does.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $decision
     * @param string $comment
     * @return array
     */
    private function call(int $courseid, int $userid, string $decision, string $comment = ''): array {
        $result = record_signoff::execute($courseid, $userid, $decision, $comment);
        return external_api::clean_returnvalue(record_signoff::execute_returns(), $result);
    }

    /**
     * A sign-off course, a learner, their manager (editing teacher: holds local/buyin:signoff
     * and the criterion's role) and an open request.
     *
     * @return array [course, criterionid, learner, manager, request]
     */
    private function make_request(): array {
        [$course, $criterionid] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $request = $this->generator->create_signoff([
            'courseid' => $course->id, 'userid' => $learner->id, 'managerid' => $manager->id,
            'timerequested' => time() - DAYSECS, 'timemodified' => time() - DAYSECS,
        ]);
        return [$course, $criterionid, $learner, $manager, $request];
    }

    /**
     * The learner's completion record of the criterion, or false.
     *
     * @param int $courseid
     * @param int $userid
     * @param int $criterionid
     * @return \stdClass|false
     */
    private function criterion_completion(int $courseid, int $userid, int $criterionid) {
        global $DB;
        return $DB->get_record('course_completion_crit_compl',
            ['course' => $courseid, 'userid' => $userid, 'criteriaid' => $criterionid]);
    }

    public function test_manager_signs_off_and_the_criterion_is_complete(): void {
        [$course, $criterionid, $learner, $manager, $request] = $this->make_request();
        $this->assertFalse($this->criterion_completion($course->id, $learner->id, $criterionid));
        $this->setUser($manager);

        $result = $this->call($course->id, $learner->id, 'signed', 'Well done');

        $this->assertTrue($result['status']);
        $this->assertEmpty($result['warnings']);
        $signoff = $result['signoff'];
        $this->assertEquals($request->id, $signoff['id']);
        $this->assertSame('signed', $signoff['status']);
        $this->assertEquals($manager->id, $signoff['decidedby']);
        $this->assertSame('Well done', $signoff['comment']);
        $this->assertGreaterThan(0, $signoff['timedecided']);

        $completion = $this->criterion_completion($course->id, $learner->id, $criterionid);
        $this->assertNotFalse($completion);
        $this->assertGreaterThan(0, (int) $completion->timecompleted);
        // The criterion reads complete through Moodle's own API too.
        $info = new \completion_info($course);
        foreach ($info->get_completions($learner->id, COMPLETION_CRITERIA_TYPE_ROLE) as $criteriacompletion) {
            $this->assertTrue($criteriacompletion->is_complete());
        }
    }

    public function test_signing_twice_is_harmless(): void {
        [$course, , $learner, $manager] = $this->make_request();
        $this->setUser($manager);

        $first = $this->call($course->id, $learner->id, 'signed');
        $second = $this->call($course->id, $learner->id, 'signed');

        $this->assertEquals($first['signoff'], $second['signoff']);
        $this->assertSame('alreadysigned', $second['warnings'][0]['warningcode']);
    }

    public function test_manager_rejects(): void {
        [$course, $criterionid, $learner, $manager] = $this->make_request();
        $this->setUser($manager);

        $result = $this->call($course->id, $learner->id, 'rejected', 'Needs the closing module again');

        $this->assertSame('rejected', $result['signoff']['status']);
        $this->assertSame('Needs the closing module again', $result['signoff']['comment']);
        $this->assertFalse($this->criterion_completion($course->id, $learner->id, $criterionid));
    }

    public function test_a_rejected_request_can_be_signed_later(): void {
        [$course, $criterionid, $learner, $manager] = $this->make_request();
        $this->setUser($manager);

        $this->call($course->id, $learner->id, 'rejected');
        $result = $this->call($course->id, $learner->id, 'signed');

        $this->assertSame('signed', $result['signoff']['status']);
        $this->assertNotFalse($this->criterion_completion($course->id, $learner->id, $criterionid));
    }

    public function test_a_signed_request_cannot_be_rejected(): void {
        [$course, , $learner, $manager] = $this->make_request();
        $this->setUser($manager);
        $this->call($course->id, $learner->id, 'signed');

        $this->expectException(\moodle_exception::class);
        $this->expectExceptionMessage(get_string('alreadysigned', 'local_buyin'));
        record_signoff::execute($course->id, $learner->id, 'rejected');
    }

    public function test_another_teacher_cannot_decide(): void {
        [$course, $criterionid, $learner] = $this->make_request();
        // Holds the capability and the criterion's role, but is not the learner's manager.
        $otherteacher = $this->getDataGenerator()->create_and_enrol($course, 'editingteacher');
        $this->setUser($otherteacher);

        try {
            record_signoff::execute($course->id, $learner->id, 'signed');
            $this->fail('Expected an exception');
        } catch (\moodle_exception $e) {
            $this->assertSame('notyourrequest', $e->errorcode);
        }
        $this->assertFalse($this->criterion_completion($course->id, $learner->id, $criterionid));
    }

    public function test_the_manager_needs_the_capability(): void {
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        // A manager enrolled as a student does not hold local/buyin:signoff.
        $manager = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $this->generator->create_signoff(['courseid' => $course->id, 'userid' => $learner->id,
            'managerid' => $manager->id]);
        $this->setUser($manager);

        $this->expectException(\required_capability_exception::class);
        record_signoff::execute($course->id, $learner->id, 'signed');
    }

    public function test_a_site_admin_can_decide(): void {
        [$course, $criterionid, $learner] = $this->make_request();
        $this->setAdminUser();

        $result = $this->call($course->id, $learner->id, 'signed');

        $this->assertSame('signed', $result['signoff']['status']);
        $this->assertEquals(get_admin()->id, $result['signoff']['decidedby']);
        $this->assertNotFalse($this->criterion_completion($course->id, $learner->id, $criterionid));
    }

    public function test_no_request_no_decision(): void {
        [$course] = $this->generator->create_signoff_course();
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $this->setAdminUser();

        $this->expectException(\moodle_exception::class);
        $this->expectExceptionMessage(get_string('norequest', 'local_buyin'));
        record_signoff::execute($course->id, $learner->id, 'signed');
    }

    public function test_an_unknown_decision_is_refused(): void {
        [$course, , $learner, $manager] = $this->make_request();
        $this->setUser($manager);

        $this->expectException(\invalid_parameter_exception::class);
        record_signoff::execute($course->id, $learner->id, 'approved');
    }
}
