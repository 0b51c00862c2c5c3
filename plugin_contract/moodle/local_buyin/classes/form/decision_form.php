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

namespace local_buyin\form;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->libdir . '/formslib.php');

/**
 * The decision on one sign-off request: sign off, or send back with a word on what is missing.
 *
 * Validation: a request sent back needs a comment (the learner reads it); a comment is at
 * most 1000 characters. Whether the viewer may decide, and whether the request still waits,
 * is checked by the page and by signoff_manager::record_decision().
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class decision_form extends \moodleform {

    /** @var int the longest comment */
    public const MAX_COMMENT = 1000;

    /**
     * The form.
     */
    protected function definition() {
        $mform = $this->_form;
        $mform->addElement('hidden', 'requestid', (int) ($this->_customdata['requestid'] ?? 0));
        $mform->setType('requestid', PARAM_INT);
        $mform->addElement('textarea', 'comment', get_string('commentoptional', 'local_buyin'),
            ['rows' => 3, 'cols' => 60, 'maxlength' => self::MAX_COMMENT]);
        $mform->setType('comment', PARAM_TEXT);
        $buttons = [
            $mform->createElement('submit', 'signoff', get_string('signoffbutton', 'local_buyin')),
            // Not primary: a secondary button.
            $mform->createElement('submit', 'reject', get_string('rejectbutton', 'local_buyin'), [], false),
        ];
        $mform->addGroup($buttons, 'buttonar', '', [' '], false);
        $mform->closeHeaderBefore('buttonar');
    }

    /**
     * Validate: sending back needs a comment; no comment is too long.
     *
     * @param array $data
     * @param array $files
     * @return array
     */
    public function validation($data, $files) {
        $errors = parent::validation($data, $files);
        $comment = trim((string) ($data['comment'] ?? ''));
        if (!empty($data['reject']) && $comment === '') {
            $errors['comment'] = get_string('commentrequired', 'local_buyin');
        }
        if (\core_text::strlen($comment) > self::MAX_COMMENT) {
            $errors['comment'] = get_string('commenttoolong', 'local_buyin');
        }
        return $errors;
    }

    /**
     * The decision the submitted form asks for.
     *
     * @param \stdClass $data from get_data()
     * @return string signed or rejected
     */
    public static function decision(\stdClass $data): string {
        return !empty($data->reject) ? \local_buyin\signoff_manager::STATUS_REJECTED
            : \local_buyin\signoff_manager::STATUS_SIGNED;
    }

    /**
     * The hidden fields of a one-click "Sign off" for the list page: the same submission as
     * this form's (its marker, sesskey, the request), so it goes through get_data() and
     * validation like any other.
     *
     * @param int $requestid
     * @return array list of name, value
     */
    public static function one_click_fields(int $requestid): array {
        return [
            ['name' => '_qf__' . preg_replace('/[^a-z0-9_]/i', '_', self::class), 'value' => 1],
            ['name' => 'sesskey', 'value' => sesskey()],
            ['name' => 'requestid', 'value' => $requestid],
            ['name' => 'comment', 'value' => ''],
        ];
    }
}
