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
 * Who may see what on the My results and My team pages, and on the sign-off page's details.
 *
 * The pages take no user id: they call figures_manager with the logged-in user's id, so
 * what these functions return for a user is exactly what that user's page shows.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\figures_manager
 * @covers     \local_buyin\figures_page
 */
final class pages_test extends \advanced_testcase {

    /** @var \stdClass */
    private $course;
    /** @var \stdClass */
    private $course2;
    /** @var \stdClass reports to manager */
    private $ada;
    /** @var \stdClass reports to manager */
    private $bob;
    /** @var \stdClass reports to other */
    private $cy;
    /** @var \stdClass */
    private $manager;
    /** @var \stdClass another manager */
    private $other;

    /**
     * Course 1: ada and bob report to manager, cy to other; the manager answered the poll.
     * Course 2: ada reports to other; bob left the programme.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $dg = $this->getDataGenerator();
        /** @var \local_buyin_generator $generator */
        $generator = $dg->get_plugin_generator('local_buyin');
        $this->course = $dg->create_course();
        $this->course2 = $dg->create_course();
        $this->ada = $dg->create_user(['lastname' => 'Ada']);
        $this->bob = $dg->create_user(['lastname' => 'Bob']);
        $this->cy = $dg->create_user(['lastname' => 'Cy']);
        $this->manager = $dg->create_user();
        $this->other = $dg->create_user();
        $figures = ['stage' => 'in progress', 'precheck' => ['Closing' => 0.5], 'post' => [], 'history' => []];
        $generator->create_figures($this->course->id, $this->ada->id, $figures, $this->manager->id);
        $generator->create_figures($this->course->id, $this->bob->id, ['stage' => 'awaiting sign-off',
            'awaiting_since' => 1000, 'tested_out_topics' => ['Listening' => 0.9], 'post' => ['Closing' => 0.8]]
            + $figures, $this->manager->id);
        $generator->create_figures($this->course->id, $this->cy->id, $figures, $this->other->id);
        $generator->create_figures($this->course->id, $this->manager->id, ['topics' => ['Closing'], 'impact' => 4,
            'comment' => '<b>close</b> more', 'moves' => [['topic' => 'Closing', 'pre' => 0.5, 'post' => null]]],
            0, figures_manager::ROLE_MANAGER);
        $generator->create_figures($this->course2->id, $this->ada->id, $figures, $this->other->id);
        $generator->create_figures($this->course2->id, $this->bob->id, ['stage' => 'left'], $this->manager->id);
    }

    public function test_my_results_shows_a_learner_their_own_figures_only(): void {
        $own = figures_manager::get_own($this->ada->id);
        $this->assertEqualsCanonicalizing([$this->course->id, $this->course2->id], array_keys($own));
        foreach ($own as $row) {
            $this->assertEquals($this->ada->id, $row->userid);
        }
        // A programme the learner left shows nothing.
        $this->assertSame([$this->course->id], array_keys(figures_manager::get_own($this->bob->id)));
        // A manager has no results of their own as a learner: their poll answer is not a result.
        $this->assertSame([], figures_manager::get_own($this->manager->id));
    }

    public function test_my_team_shows_a_manager_their_own_reports_only(): void {
        $team = figures_manager::get_team($this->manager->id);
        $this->assertEqualsCanonicalizing([$this->ada->id, $this->bob->id], array_column($team, 'userid'));
        foreach ($team as $row) {
            $this->assertEquals($this->course->id, $row->courseid);
        }
        $otherteam = figures_manager::get_team($this->other->id);
        $this->assertEqualsCanonicalizing(
            [[$this->course->id, $this->cy->id], [$this->course2->id, $this->ada->id]],
            array_map(fn($r) => [(int) $r->courseid, (int) $r->userid], array_values($otherteam)));
        // A learner manages nobody.
        $this->assertSame([], figures_manager::get_team($this->ada->id));
        $this->assertSame([], figures_manager::get_team(0));
    }

    public function test_a_learners_figures_are_seen_by_them_and_their_manager_only(): void {
        $courseid = $this->course->id;
        $this->assertNotNull(figures_manager::get_learner($courseid, $this->ada->id, $this->ada->id));
        $this->assertNotNull(figures_manager::get_learner($courseid, $this->ada->id, $this->manager->id));
        $this->assertNull(figures_manager::get_learner($courseid, $this->ada->id, $this->other->id));
        $this->assertNull(figures_manager::get_learner($courseid, $this->ada->id, $this->bob->id));
        // In course 2 ada reports to the other manager.
        $this->assertNull(figures_manager::get_learner($this->course2->id, $this->ada->id, $this->manager->id));
        $this->assertNotNull(figures_manager::get_learner($this->course2->id, $this->ada->id, $this->other->id));
    }

    public function test_a_managers_poll_answer_is_seen_by_that_manager_only(): void {
        $answer = figures_manager::get_manager_answer($this->course->id, $this->manager->id);
        $this->assertSame(['Closing'], $answer['topics']);
        $this->assertNull(figures_manager::get_manager_answer($this->course->id, $this->other->id));
        $this->assertNull(figures_manager::get_manager_answer($this->course2->id, $this->manager->id));

        $shown = figures_page::poll_answer($answer);
        // The free text stays plain text for the template to escape.
        $this->assertSame('<b>close</b> more', $shown['comment']);
        $this->assertStringContainsString('Closing', $shown['moves'][0]);
        $this->assertStringContainsString('50%', $shown['moves'][0]);
    }

    public function test_the_user_menu_offers_each_page_to_whom_it_has_something(): void {
        $this->assertSame([true, false], figures_manager::has_pages($this->ada->id));
        $this->assertSame([false, true], figures_manager::has_pages($this->manager->id));
        $stranger = $this->getDataGenerator()->create_user();
        $this->assertSame([false, false], figures_manager::has_pages($stranger->id));
    }

    public function test_the_signoff_page_shows_what_the_manager_confirms_and_the_wait_since_finishing(): void {
        $request = $this->getDataGenerator()->get_plugin_generator('local_buyin')->create_signoff([
            'courseid' => $this->course->id, 'userid' => $this->bob->id, 'managerid' => $this->manager->id,
            'timerequested' => 5000]);
        $details = figures_manager::signoff_details($request, $this->manager->id);
        $this->assertSame(1000, $details['waitingsince']);
        $this->assertTrue($details['sincefinished']);
        $this->assertSame([['topic' => 'Listening', 'score' => '90%']], $details['testedout']);
        $this->assertSame([['topic' => 'Closing', 'score' => '80%']], $details['post']);

        // Without figures from the agent the wait counts from the request, and says so.
        $request2 = $this->getDataGenerator()->get_plugin_generator('local_buyin')->create_signoff([
            'courseid' => $this->course2->id, 'userid' => $this->cy->id, 'managerid' => $this->manager->id,
            'timerequested' => 5000]);
        $details = figures_manager::signoff_details($request2, $this->manager->id);
        $this->assertSame(5000, $details['waitingsince']);
        $this->assertFalse($details['sincefinished']);
        $this->assertFalse($details['hastestedout']);
    }

    public function test_where_a_learner_stands_is_worded_kindly(): void {
        $post = ['post' => ['Closing' => 0.9]];
        $this->assertStringContainsString('75%', figures_page::standing(['ahead_of' => 0.75] + $post));
        // Never a ranking on the pre-check alone: it measures what they knew before the course.
        $this->assertSame(get_string('standingafterpost', 'local_buyin'),
            figures_page::standing(['ahead_of' => 0.75, 'precheck' => ['Closing' => 0.9]]));
        $below = figures_page::standing(['ahead_of' => 0.2] + $post);
        $this->assertStringNotContainsString('%', $below);
        $this->assertSame(get_string('standingkeepgoing', 'local_buyin'), $below);
        $this->assertSame(get_string('standingnone', 'local_buyin'), figures_page::standing([]));
    }

    public function test_charts_keep_the_pre_check_and_post_apart(): void {
        $chart = figures_page::topics_chart(['topics' => ['Closing'], 'precheck' => ['Closing' => 0.5],
            'post' => ['Closing' => 0.8]], 'Scores');
        $series = $chart->get_series();
        $this->assertCount(2, $series);
        $this->assertSame([50], $series[0]->get_values());
        $this->assertSame([80], $series[1]->get_values());
        $this->assertNull(figures_page::topics_chart(['topics' => ['Closing']], 'Scores'));
    }

    /**
     * What a manager confirms, in plain words: never a count of criteria; plurals right.
     */
    public function test_confirms_in_plain_words(): void {
        $this->assertSame('All 8 activities done, tested out of Closing with 100%, post-assessment Listening 90%',
            figures_page::confirms(['activities_done' => 8, 'activities_total' => 8,
                'tested_out_topics' => ['Closing' => 1.0], 'post' => ['Listening' => 0.9]]));
        $this->assertSame('The one activity done', figures_page::activities(1, 1));
        $this->assertSame('0 of 1 activity done', figures_page::activities(0, 1));
        $this->assertSame(get_string('confirmnofigures', 'local_buyin'), figures_page::confirms([]));
    }
}
