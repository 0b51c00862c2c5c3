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
use moodle_url;
use renderable;
use renderer_base;
use templatable;

/**
 * My team: a manager's reports in each programme (template local_buyin/myteam).
 *
 * The data of the page in a fixed number of queries whatever the team's size: the team's
 * rows, their names, their courses, the manager's waiting requests and poll answers, the
 * page links; each one query (tests/test_site_pages.py counts them for 3 and 300).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class my_team implements renderable, templatable {

    /** @var int the manager */
    protected int $managerid;

    /** @var int now, for how long a learner has waited */
    protected int $now;

    /**
     * The page of one manager.
     *
     * @param int $managerid
     * @param int|null $now
     */
    public function __construct(int $managerid, ?int $now = null) {
        $this->managerid = $managerid;
        $this->now = $now ?? time();
    }

    /**
     * The template data.
     *
     * @param renderer_base $output
     * @return array
     */
    public function export_for_template(renderer_base $output): array {
        $rows = figures_manager::get_team($this->managerid);
        $courses = loader::courses(array_map(fn($r) => (int) $r->courseid, $rows));
        $names = loader::names(array_map(fn($r) => (int) $r->userid, $rows));
        $pending = loader::pending($this->managerid);
        $answers = loader::manager_answers($this->managerid);
        $programmes = [];
        foreach ($rows as $row) {
            $courseid = (int) $row->courseid;
            $name = $names[(int) $row->userid] ?? null;
            if (!isset($courses[$courseid]) || $name === null) {
                continue;
            }
            if (!isset($programmes[$courseid])) {
                $poll = figures_page::poll_answer($answers[$courseid] ?? null);
                $programmes[$courseid] = [
                    'coursename' => $courses[$courseid][0],
                    'courseurl' => $courses[$courseid][1],
                    'haspoll' => $poll !== null,
                    'poll' => $poll,
                    'members' => [],
                ];
            }
            $figures = $row->decoded;
            $request = $pending[$courseid . ':' . $row->userid] ?? null;
            $since = (int) ($figures['awaiting_since'] ?? 0);
            $chart = figures_page::history_chart($figures['history'] ?? [], figures_page::topics($figures),
                get_string('chartmemberovertime', 'local_buyin', $name));
            if (!$chart) {
                $chart = figures_page::topics_chart($figures, get_string('chartmemberscores', 'local_buyin', $name));
            }
            $programmes[$courseid]['members'][] = [
                'name' => $name,
                'stage' => figures_page::stage($figures),
                'progress' => figures_page::activities((int) ($figures['activities_done'] ?? 0),
                    (int) ($figures['activities_total'] ?? 0)),
                'awaiting' => $since > 0 && ($figures['stage'] ?? '') === 'awaiting sign-off',
                'waitingfor' => $since > 0 ? format_time($this->now - $since) : '',
                'waitingsince' => $since > 0 ? userdate($since) : '',
                'cansign' => $request !== null,
                // The button opens this learner's request.
                'signurl' => $request !== null
                    ? (new moodle_url('/local/buyin/index.php', ['requestid' => $request->id]))->out(false) : '',
                'chart' => $chart ? $output->render_chart($chart, true) : '',
            ];
        }
        return [
            'nav' => loader::nav($this->managerid, 'myteam'),
            'hasprogrammes' => !empty($programmes),
            'programmes' => array_values($programmes),
        ];
    }
}
