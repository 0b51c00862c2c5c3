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

use core\message\message;
use core_date;
use core_user;
use html_writer;
use moodle_url;
use stdClass;

/**
 * Notifications the moodle-buyin agent asks for, rendered here in the recipient's language.
 *
 * The agent sends intents, not text (local_buyin_send_notifications): per notification an
 * idempotency key, the recipient, the kind (a message provider of db/messages.php), the
 * agent's template id and `data`, a JSON object:
 *
 *     {"body": parts, "page": "myresults" | "myteam" | "signoff" | "",
 *      "course": "the programme's course name", "subject": parts (optional)}
 *
 * The subject is the kind's lang string (`subject:<kind>`, with the course's name) unless
 * the tree brings its own.
 *
 * where `parts` is a list whose items are HTML the agent built itself (list separators,
 * values it escaped) or nodes:
 *
 * - `{"s": "msg:precheck.result:intro", "f": "<p>Hi {firstname}, ...</p>", "a": {"firstname": parts}}`:
 *   the lang string `s` of local_buyin with each `{$a->name}` filled with its rendered
 *   parts; where this plugin has no such string (an agent newer than the plugin) or the
 *   programme overrides the words (no `s`), the agent's own text `f` with its `{name}`s;
 * - `{"date": 1764806400}`: a day, by userdate() with the language's `strftimedaydate`, in
 *   the recipient's time zone;
 * - `{"link": "https://...", "text": parts}`: a link;
 * - `{"continued": parts, "firstname": parts}`: a later part of a merged notification, its
 *   greeting taken off.
 *
 * Plurals reach Moodle as the agent's choice of string (…_one, …_many), numbers as their
 * values, dates as timestamps: the words are all lang strings, so a language pack or the
 * language customisation page changes every one of them.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class notification_manager {

    /** @var string the keys of the notifications sent */
    public const TABLE = 'local_buyin_notification';

    /** @var int at most this many notifications per call */
    public const MAX_ITEMS = 200;

    /** @var string[] the message providers of db/messages.php */
    public const KINDS = ['signoff', 'signoffdecision', 'precheck', 'kickoff', 'followup', 'progress',
        'teamdigest', 'poll', 'recognition'];

    /** @var array page name => [path, lang string of its name] */
    public const PAGES = [
        'myresults' => ['/local/buyin/myresults.php', 'myresults'],
        'myteam' => ['/local/buyin/myteam.php', 'myteam'],
        'signoff' => ['/local/buyin/index.php', 'pendingtitle'],
    ];

    /** @var int how deep parts may nest (a guard against a malformed tree) */
    private const MAX_DEPTH = 12;

    /** @var stdClass the recipient, whose time zone dates are shown in */
    private stdClass $recipient;

    /**
     * A renderer for one recipient.
     *
     * @param stdClass $recipient
     */
    public function __construct(stdClass $recipient) {
        $this->recipient = $recipient;
    }

    /**
     * The language a recipient reads: theirs where the site has it installed, else the site's.
     *
     * @param stdClass $user
     * @return string
     */
    public static function language_of(stdClass $user): string {
        global $CFG;
        $lang = (string) ($user->lang ?? '');
        if ($lang !== '' && get_string_manager()->translation_exists($lang, false)) {
            return $lang;
        }
        return (string) $CFG->lang;
    }

    /**
     * The subject, HTML body and link of a notification, in the current language.
     *
     * @param string $kind the message provider
     * @param array $data the decoded `data` of the item
     * @return array [subject (plain), body (HTML), contexturl|null, contexturlname|null]
     */
    public function render(string $kind, array $data): array {
        $course = trim((string) ($data['course'] ?? ''));
        $subject = get_string('subject:' . $kind, 'local_buyin',
            $course !== '' ? $course : get_string('aprogramme', 'local_buyin'));
        if (!empty($data['subject']) && is_array($data['subject'])) {
            $subject = trim(html_to_text($this->parts($data['subject'], 0), 0, false));
        }
        $body = clean_text($this->parts((array) ($data['body'] ?? []), 0), FORMAT_HTML);
        $page = (string) ($data['page'] ?? '');
        $url = null;
        $urlname = null;
        if (isset(self::PAGES[$page])) {
            [$path, $stringid] = self::PAGES[$page];
            $url = (new moodle_url($path))->out(false);
            $urlname = get_string($stringid, 'local_buyin');
        }
        return [$subject, $body, $url, $urlname];
    }

    /**
     * Parts, rendered.
     *
     * @param array $parts
     * @param int $depth
     * @return string HTML
     */
    public function parts(array $parts, int $depth): string {
        if ($depth > self::MAX_DEPTH) {
            throw new \invalid_parameter_exception('The notification\'s data nests too deep');
        }
        $out = '';
        foreach ($parts as $part) {
            if (is_string($part) || is_int($part) || is_float($part)) {
                $out .= (string) $part;
            } else if (is_array($part)) {
                $out .= $this->node($part, $depth + 1);
            }
        }
        return $out;
    }

    /**
     * One node: a lang string (or the agent's words), a date or a link.
     *
     * @param array $node
     * @param int $depth
     * @return string HTML
     */
    private function node(array $node, int $depth): string {
        if (array_key_exists('date', $node)) {
            return userdate((int) $node['date'], get_string('strftimedaydate', 'langconfig'),
                core_date::get_user_timezone($this->recipient));
        }
        if (array_key_exists('continued', $node)) {
            return $this->continued($this->parts((array) $node['continued'], $depth),
                $this->parts((array) ($node['firstname'] ?? []), $depth));
        }
        if (array_key_exists('link', $node)) {
            $url = clean_param((string) $node['link'], PARAM_URL);
            $text = $this->parts((array) ($node['text'] ?? []), $depth);
            return $url === '' ? $text : html_writer::link($url, $text);
        }
        $a = new stdClass();
        foreach ((array) ($node['a'] ?? []) as $name => $value) {
            $a->{$name} = is_array($value) ? $this->parts($value, $depth) : s((string) $value);
        }
        $id = (string) ($node['s'] ?? '');
        if ($id !== '' && clean_param($id, PARAM_STRINGID) === $id
                && get_string_manager()->string_exists($id, 'local_buyin')) {
            return get_string($id, 'local_buyin', $a);
        }
        // The agent's own words: a programme's override, or a string this version lacks.
        $format = (string) ($node['f'] ?? '');
        return preg_replace_callback('/\{(\w+)\}/', function(array $m) use ($a): string {
            return property_exists($a, $m[1]) ? (string) $a->{$m[1]} : $m[0];
        }, $format);
    }

    /**
     * A later part of a merged notification: without its own greeting ("Hi Ada, thank you"
     * becomes "Thank you"), as the agent does for its English text.
     *
     * @param string $text the part, rendered
     * @param string $firstname
     * @return string
     */
    private function continued(string $text, string $firstname): string {
        $greeting = '<p>' . get_string('msg:common:hi', 'local_buyin', (object) ['firstname' => $firstname]);
        if (strpos($text, $greeting . '</p>') === 0) {
            return substr($text, strlen($greeting) + 4);
        }
        if (strpos($text, $greeting . ' ') === 0) {
            $rest = substr($text, strlen($greeting) + 1);
            return '<p>' . \core_text::strtoupper(\core_text::substr($rest, 0, 1)) . \core_text::substr($rest, 1);
        }
        return $text;
    }

    /**
     * Send one notification unless its key was sent before.
     *
     * The key is recorded in the same transaction as the notification (Moodle sends what
     * message_send() queued inside a transaction once it commits): both are stored, or
     * neither. Two calls racing with one key: the unique index lets one through.
     *
     * @param string $key the agent's idempotency key
     * @param stdClass $recipient
     * @param string $kind
     * @param string $template
     * @param array $data
     * @param stdClass $sender
     * @return array [bool sent now (false: sent before), int message id]
     */
    public static function send_once(string $key, stdClass $recipient, string $kind, string $template,
            array $data, stdClass $sender): array {
        global $DB;
        $before = $DB->get_record(self::TABLE, ['idempotencykey' => $key], 'id, messageid');
        if ($before) {
            return [false, (int) $before->messageid];
        }
        $previous = force_current_language(self::language_of($recipient));
        try {
            [$subject, $body, $url, $urlname] = (new self($recipient))->render($kind, $data);
        } finally {
            force_current_language($previous);
        }
        $transaction = $DB->start_delegated_transaction();
        try {
            $rowid = $DB->insert_record(self::TABLE, (object) [
                'idempotencykey' => $key,
                'userid' => (int) $recipient->id,
                'kind' => $kind,
                'template' => $template,
                'messageid' => 0,
                'timecreated' => time(),
            ]);
        } catch (\dml_write_exception $e) {
            // The same key sent by a concurrent call, which committed first.
            $transaction->rollback($e);
        }
        $message = new message();
        $message->component = 'local_buyin';
        $message->name = $kind;
        $message->userfrom = $sender;
        $message->userto = $recipient;
        $message->subject = $subject;
        $message->fullmessage = html_to_text($body);
        $message->fullmessageformat = FORMAT_HTML;
        $message->fullmessagehtml = $body;
        $message->smallmessage = $subject;
        $message->notification = 1;
        if ($url !== null) {
            $message->contexturl = $url;
            $message->contexturlname = $urlname;
        }
        $messageid = message_send($message);
        $DB->set_field(self::TABLE, 'messageid', (int) $messageid, ['id' => $rowid]);
        try {
            // Committing hands the notification to its processors (bell, e-mail, app).
            $transaction->allow_commit();
        } catch (\moodle_exception $e) {
            // Stored with its key and in the recipient's notifications: sent. A processor
            // that failed (an e-mail server down) is the site's to fix, not a reason to send
            // it again.
            // phpcs:ignore moodle.PHP.ForbiddenFunctions.Found
            error_log('local_buyin: notification ' . $key . ' stored; a processor failed: ' . $e->getMessage());
        }
        return [true, (int) $messageid];
    }

    /**
     * The sender: the programme's sender by username, else the site's no-reply user.
     *
     * @param string $username
     * @return stdClass
     */
    public static function sender(string $username): stdClass {
        if ($username === '') {
            return core_user::get_noreply_user();
        }
        $user = core_user::get_user_by_username($username);
        if (!$user || $user->deleted || $user->suspended) {
            throw new \invalid_parameter_exception("The sender '$username' is not an active user of this site");
        }
        return $user;
    }
}
