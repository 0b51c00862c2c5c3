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

use core\chart_axis;
use core\chart_bar;
use core\chart_line;
use core\chart_series;
use stdClass;

/**
 * The template data and charts of the My results and My team pages.
 *
 * Charts are Moodle's own (core\chart_bar, core\chart_line) rendered with
 * core_renderer::render_chart($chart, true): the chart and, beside it, the data table
 * Moodle renders for every chart, so the figures can be read without the picture.
 * Scores are shown as percentages (0-100) on a fixed axis, the pre-check, the post
 * assessment and the retention check as separate series, never one line.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class figures_page {

    /** @var string[] The kinds of score kept apart, with their string ids. */
    public const KINDS = ['precheck' => 'kindprecheck', 'post' => 'kindpost', 'retention' => 'kindretention'];

    /** @var string[] Stage as the agent names it => string id. */
    public const STAGES = [
        'not started' => 'stagenotstarted',
        'in progress' => 'stageinprogress',
        'awaiting sign-off' => 'stageawaiting',
        'sign-off rejected' => 'stagerejected',
        'complete' => 'stagecomplete',
    ];

    /**
     * The stage, worded.
     *
     * @param array $figures
     * @return string
     */
    public static function stage(array $figures): string {
        $id = self::STAGES[$figures['stage'] ?? ''] ?? 'stageunknown';
        return get_string($id, 'local_buyin');
    }

    /**
     * Where the learner stands, worded kindly: only once there is a post-assessment (never
     * on the pre-check, which measures what they knew before the course), "ahead of N%"
     * only from half up, encouragement otherwise.
     *
     * @param array $figures
     * @return string
     */
    public static function standing(array $figures): string {
        $share = $figures['ahead_of'] ?? null;
        if (empty($figures['post'])) {
            // The pre-check measures what they knew before the course: no ranking on it.
            return get_string(empty($figures['precheck']) ? 'standingnone' : 'standingafterpost', 'local_buyin');
        }
        if ($share === null) {
            return get_string('standingnone', 'local_buyin');
        }
        if ((float) $share >= 0.5) {
            return get_string('standingahead', 'local_buyin', (int) round((float) $share * 100));
        }
        return get_string('standingkeepgoing', 'local_buyin');
    }

    /**
     * The topics of the figures: the programme's, then any other with a score.
     *
     * @param array $figures
     * @return string[]
     */
    public static function topics(array $figures): array {
        $topics = array_values($figures['topics'] ?? []);
        foreach (['precheck', 'post'] as $kind) {
            foreach (array_keys($figures[$kind] ?? []) as $topic) {
                if (!in_array($topic, $topics, true)) {
                    $topics[] = $topic;
                }
            }
        }
        return $topics;
    }

    /**
     * A score as a chart value: a percentage, or null where there is none.
     *
     * @param array $scores
     * @param string $topic
     * @return int|null
     */
    protected static function value(array $scores, string $topic): ?int {
        return isset($scores[$topic]) ? (int) round(((float) $scores[$topic]) * 100) : null;
    }

    /**
     * A 0-100 % axis.
     *
     * @return chart_axis
     */
    protected static function percent_axis(): chart_axis {
        $axis = new chart_axis();
        $axis->set_min(0);
        $axis->set_max(100);
        $axis->set_stepsize(20);
        $axis->set_label(get_string('scorepercent', 'local_buyin'));
        return $axis;
    }

    /**
     * Pre-check and post per topic now (bars side by side).
     *
     * @param array $figures
     * @param string $title
     * @return chart_bar|null null without any score
     */
    public static function topics_chart(array $figures, string $title): ?chart_bar {
        $topics = self::topics($figures);
        if (!$topics || (empty($figures['precheck']) && empty($figures['post']))) {
            return null;
        }
        $chart = new chart_bar();
        $chart->set_title($title);
        $chart->set_labels(array_map('format_string', $topics));
        foreach (['precheck', 'post'] as $kind) {
            $scores = $figures[$kind] ?? [];
            if ($scores) {
                $values = array_map(fn($t) => self::value($scores, $t), $topics);
                $chart->add_series(new chart_series(get_string(self::KINDS[$kind], 'local_buyin'), $values));
            }
        }
        $chart->set_yaxis(self::percent_axis());
        return $chart;
    }

    /**
     * Pre-check and post per topic at each moment they changed (one line per topic and kind).
     *
     * @param array $history list of {at, precheck, post, retention}
     * @param string[] $topics
     * @param string $title
     * @return chart_line|null null with fewer than two moments
     */
    public static function history_chart(array $history, array $topics, string $title): ?chart_line {
        if (count($history) < 2) {
            return null;
        }
        $chart = new chart_line();
        $chart->set_title($title);
        $chart->set_labels(array_map(
            fn($p) => userdate((int) $p['at'], get_string('strftimedatefullshort', 'core_langconfig')), $history));
        foreach ($topics as $topic) {
            foreach (['precheck', 'post'] as $kind) {
                $values = array_map(fn($p) => self::value($p[$kind] ?? [], $topic), $history);
                if (array_filter($values, fn($v) => $v !== null)) {
                    $label = get_string('serieslabel', 'local_buyin', (object) [
                        'topic' => format_string($topic),
                        'kind' => get_string(self::KINDS[$kind], 'local_buyin'),
                    ]);
                    $chart->add_series(new chart_series($label, $values));
                }
            }
        }
        $chart->set_yaxis(self::percent_axis());
        return $chart;
    }

    /**
     * Activities done, in words with the right plural: "All 8 activities done", "3 of 8
     * activities done", "The one activity done"; empty where the total is not known.
     *
     * @param int $done
     * @param int $total
     * @return string
     */
    public static function activities(int $done, int $total): string {
        if ($total < 1) {
            return '';
        }
        if ($done >= $total) {
            return get_string($total === 1 ? 'activitiesallone' : 'activitiesall', 'local_buyin', $total);
        }
        $a = (object) ['done' => $done, 'total' => $total];
        return get_string($total === 1 ? 'activitiesdoneofone' : 'activitiesdone', 'local_buyin', $a);
    }

    /**
     * What a manager confirms by signing off, in plain words: "All 8 activities done, tested
     * out of Closing with 100%, post-assessment Listening 90%" (never a count of criteria).
     *
     * @param array $figures the learner's figures ([] where the agent has pushed none)
     * @return string
     */
    public static function confirms(array $figures): string {
        $parts = [];
        $total = (int) ($figures['activities_total'] ?? 0);
        if ($total > 0) {
            $parts[] = self::activities((int) ($figures['activities_done'] ?? 0), $total);
        }
        $testedout = [];
        foreach ($figures['tested_out_topics'] ?? [] as $topic => $score) {
            $testedout[] = get_string('confirmtopicscore', 'local_buyin',
                (object) ['topic' => (string) $topic, 'score' => figures_manager::percent($score)]);
        }
        if ($testedout) {
            $parts[] = get_string('confirmtestedout', 'local_buyin', implode(', ', $testedout));
        }
        $post = [];
        foreach ($figures['post'] ?? [] as $topic => $score) {
            $post[] = get_string('confirmtopicpost', 'local_buyin',
                (object) ['topic' => (string) $topic, 'score' => figures_manager::percent($score)]);
        }
        if ($post) {
            $parts[] = get_string('confirmpost', 'local_buyin', implode(', ', $post));
        }
        if (!$parts) {
            return get_string('confirmnofigures', 'local_buyin');
        }
        $text = implode(get_string('listsep', 'langconfig') . ' ', $parts);
        return \core_text::strtoupper(\core_text::substr($text, 0, 1)) . \core_text::substr($text, 1);
    }

    /**
     * The retention check's result, worded, or null.
     *
     * @param array $figures
     * @return string|null
     */
    public static function retention(array $figures): ?string {
        $retention = $figures['retention'] ?? [];
        if (!$retention) {
            return null;
        }
        $values = array_map('floatval', array_values($retention));
        $mean = array_sum($values) / count($values);
        return get_string('retentionresult', 'local_buyin', figures_manager::percent($mean));
    }

    /**
     * Time saved by testing out, worded, or null when nothing was tested out.
     *
     * @param array $figures
     * @return string|null
     */
    public static function time_saved(array $figures): ?string {
        $activities = (int) ($figures['tested_out'] ?? 0);
        if ($activities < 1) {
            return null;
        }
        $minutes = (float) ($figures['minutes_saved'] ?? 0);
        return get_string($activities === 1 ? 'timesavedone' : 'timesaved', 'local_buyin', (object) [
            'activities' => $activities,
            'time' => format_time((int) round($minutes * 60)),
        ]);
    }

    /**
     * The manager's own poll answer beside their team's results, as template data.
     *
     * @param array|null $answer the manager row's figures
     * @return array|null
     */
    public static function poll_answer(?array $answer): ?array {
        if (!$answer) {
            return null;
        }
        $moves = [];
        foreach ($answer['moves'] ?? [] as $move) {
            // Plain text: the template escapes it.
            $a = (object) ['topic' => (string) $move['topic']];
            if (isset($move['pre']) && isset($move['post'])) {
                [$a->pre, $a->post] = [figures_manager::percent($move['pre']), figures_manager::percent($move['post'])];
                $moves[] = get_string('askedmoved', 'local_buyin', $a);
            } else if (isset($move['pre'])) {
                $a->pre = figures_manager::percent($move['pre']);
                $moves[] = get_string('askedpre', 'local_buyin', $a);
            } else {
                $moves[] = get_string('askednone', 'local_buyin', $a);
            }
        }
        return [
            'topics' => get_string('askedtopics', 'local_buyin', implode(', ', array_map('strval', $answer['topics'] ?? []))),
            'hasimpact' => isset($answer['impact']),
            'impact' => get_string('askedimpact', 'local_buyin', (int) ($answer['impact'] ?? 0)),
            // Typed by the manager in Moodle's Feedback activity: plain text, escaped by the template.
            'comment' => (string) ($answer['comment'] ?? ''),
            'hascomment' => trim((string) ($answer['comment'] ?? '')) !== '',
            'moves' => $moves,
        ];
    }

    /**
     * A course's name and link for a heading.
     *
     * @param int $courseid
     * @return array|null [name, url] or null where the course is gone
     */
    public static function course(int $courseid): ?array {
        global $DB;
        $course = $DB->get_record('course', ['id' => $courseid]);
        if (!$course) {
            return null;
        }
        $context = \context_course::instance($course->id);
        return [
            format_string($course->fullname, true, ['context' => $context]),
            (new \moodle_url('/course/view.php', ['id' => $course->id]))->out(false),
        ];
    }

    /**
     * The sign-off request of a learner that the viewer may decide, or null.
     *
     * @param stdClass $row the learner's figures row
     * @param int $viewerid
     * @return stdClass|null
     */
    public static function pending_request(stdClass $row, int $viewerid): ?stdClass {
        $request = signoff_manager::get_request((int) $row->courseid, (int) $row->userid);
        if (!$request || $request->status !== signoff_manager::STATUS_REQUESTED
                || (int) $request->managerid !== $viewerid) {
            return null;
        }
        return $request;
    }
}
