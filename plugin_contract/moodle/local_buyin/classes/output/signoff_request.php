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

use local_buyin\signoff_manager;
use moodle_url;
use renderable;
use renderer_base;
use stdClass;
use templatable;

/**
 * One sign-off request, for its manager to decide (template local_buyin/signoff_request):
 * who, which course, what they confirm in plain words, how long the learner has waited,
 * and the decision form (classes/form/decision_form.php, rendered by the page).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class signoff_request implements renderable, templatable {

    /** @var stdClass the request */
    protected stdClass $request;

    /** @var int the viewer */
    protected int $viewerid;

    /** @var string the decision form, rendered */
    protected string $form;

    /**
     * A request and its form.
     *
     * @param stdClass $request
     * @param int $viewerid
     * @param string $form the form's HTML ('' once decided)
     */
    public function __construct(stdClass $request, int $viewerid, string $form) {
        $this->request = $request;
        $this->viewerid = $viewerid;
        $this->form = $form;
    }

    /**
     * The template data.
     *
     * @param renderer_base $output
     * @return array
     */
    public function export_for_template(renderer_base $output): array {
        $request = $this->request;
        $names = loader::names([(int) $request->userid]);
        $courses = loader::courses([(int) $request->courseid]);
        $figures = loader::learner_figures([[(int) $request->courseid, (int) $request->userid]]);
        $learner = $names[(int) $request->userid] ?? '';
        $course = $courses[(int) $request->courseid] ?? ['', ''];
        $item = signoff_list::item($request, $figures[$request->courseid . ':' . $request->userid] ?? [], $learner,
            $course, time());
        $pending = $request->status === signoff_manager::STATUS_REQUESTED;
        return $item + [
            'nav' => loader::nav($this->viewerid, 'signoff'),
            'title' => get_string('decisiontitle', 'local_buyin', (object) ['learner' => $learner, 'course' => $course[0]]),
            'intro' => get_string('decisionintro', 'local_buyin', $learner),
            'pending' => $pending,
            'decided' => $pending ? '' : get_string('requestdecided', 'local_buyin',
                get_string('status:' . $request->status, 'local_buyin')),
            'form' => $this->form,
            'backurl' => (new moodle_url('/local/buyin/index.php'))->out(false),
        ];
    }
}
