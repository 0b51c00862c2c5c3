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

use local_buyin\figures_page;
use local_buyin\form\decision_form;
use local_buyin\signoff_manager;
use moodle_url;
use renderable;
use renderer_base;
use stdClass;
use templatable;

/**
 * Sign-off requests: the requests waiting for a manager, each with what they confirm in plain
 * words and a button to that request (template local_buyin/pending). A fixed number of
 * queries: the requests, the learners' names, the courses, the figures, the page links.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class signoff_list implements renderable, templatable {

    /** @var int the manager */
    protected int $managerid;

    /** @var int now */
    protected int $now;

    /**
     * The list of one manager.
     *
     * @param int $managerid
     * @param int|null $now
     */
    public function __construct(int $managerid, ?int $now = null) {
        $this->managerid = $managerid;
        $this->now = $now ?? time();
    }

    /**
     * One request as the list and the request page show it.
     *
     * @param stdClass $request
     * @param array $figures the learner's figures ([] where none)
     * @param string $learner
     * @param array $course [name, url]
     * @param int $now
     * @return array
     */
    public static function item(stdClass $request, array $figures, string $learner, array $course, int $now): array {
        $finished = (int) ($figures['awaiting_since'] ?? 0);
        $since = $finished ?: (int) $request->timerequested;
        return [
            'requestid' => (int) $request->id,
            'learnername' => $learner,
            'coursename' => $course[0],
            'courseurl' => $course[1],
            'confirms' => figures_page::confirms($figures),
            'pendingfor' => get_string($finished ? 'waitedsincefinished' : 'waitedsincerequest', 'local_buyin',
                format_time($now - $since)),
            'waitingsince' => userdate($since),
            'reviewurl' => (new moodle_url('/local/buyin/index.php', ['requestid' => $request->id]))->out(false),
            // Sign off in one click (send back opens the request: it needs a comment).
            'signfields' => decision_form::one_click_fields((int) $request->id),
        ];
    }

    /**
     * The template data.
     *
     * @param renderer_base $output
     * @return array
     */
    public function export_for_template(renderer_base $output): array {
        $requests = signoff_manager::get_pending_for_manager($this->managerid);
        $names = loader::names(array_map(fn($r) => (int) $r->userid, $requests));
        $courses = loader::courses(array_map(fn($r) => (int) $r->courseid, $requests));
        $figures = loader::learner_figures(array_map(fn($r) => [(int) $r->courseid, (int) $r->userid], $requests));
        $items = [];
        foreach ($requests as $request) {
            if (!isset($names[(int) $request->userid]) || !isset($courses[(int) $request->courseid])) {
                continue;
            }
            $items[] = self::item($request, $figures[$request->courseid . ':' . $request->userid] ?? [],
                $names[(int) $request->userid], $courses[(int) $request->courseid], $this->now);
        }
        return [
            'nav' => loader::nav($this->managerid, 'signoff'),
            'hasrequests' => !empty($items),
            'requests' => $items,
        ];
    }
}
