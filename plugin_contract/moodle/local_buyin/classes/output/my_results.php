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

namespace local_buyin\output;

use local_buyin\figures_manager;
use local_buyin\figures_page;
use renderable;
use renderer_base;
use templatable;

/**
 * My results: a learner's own figures in each programme (template local_buyin/myresults).
 *
 * Reads the learner's rows, their courses and the page links: a fixed number of queries.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class my_results implements renderable, templatable {

    /** @var int whose results */
    protected int $userid;

    /**
     * The page of one learner.
     *
     * @param int $userid
     */
    public function __construct(int $userid) {
        $this->userid = $userid;
    }

    /**
     * The template data.
     *
     * @param renderer_base $output
     * @return array
     */
    public function export_for_template(renderer_base $output): array {
        $rows = figures_manager::get_own($this->userid);
        $courses = loader::courses(array_map(fn($r) => (int) $r->courseid, $rows));
        $programmes = [];
        foreach ($rows as $row) {
            $course = $courses[(int) $row->courseid] ?? null;
            if ($course === null) {
                continue;
            }
            $figures = $row->decoded;
            $topicschart = figures_page::topics_chart($figures, get_string('chartyourscores', 'local_buyin'));
            $historychart = figures_page::history_chart($figures['history'] ?? [], figures_page::topics($figures),
                get_string('chartovertime', 'local_buyin'));
            $timesaved = figures_page::time_saved($figures);
            $retention = figures_page::retention($figures);
            $progress = figures_page::activities((int) ($figures['activities_done'] ?? 0),
                (int) ($figures['activities_total'] ?? 0));
            $programmes[] = [
                'coursename' => $course[0],
                'courseurl' => $course[1],
                'stage' => figures_page::stage($figures),
                'hasprogress' => $progress !== '',
                'progress' => $progress,
                'standing' => figures_page::standing($figures),
                'hastimesaved' => $timesaved !== null,
                'timesaved' => $timesaved,
                'hasretention' => $retention !== null,
                'retention' => $retention,
                'topicschart' => $topicschart ? $output->render_chart($topicschart, true) : '',
                'historychart' => $historychart ? $output->render_chart($historychart, true) : '',
                'updated' => userdate((int) $row->timemodified),
            ];
        }
        return [
            'nav' => loader::nav($this->userid, 'myresults'),
            'hasprogrammes' => !empty($programmes),
            'programmes' => $programmes,
        ];
    }
}
