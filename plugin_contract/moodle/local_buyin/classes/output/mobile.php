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

/**
 * The Moodle app's content of local_buyin (db/mobile.php): the same data as the web pages
 * (the renderables of this namespace), in Ionic templates without the charts.
 *
 * Each method is called by tool_mobile_get_content as the app's user; the decision on a
 * request is local_buyin_record_signoff, called from the template (it is in the mobile
 * service).
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class mobile {

    /**
     * The page data without what the app does not show (charts, page links).
     *
     * @param array $data
     * @return array
     */
    protected static function strip(array $data): array {
        unset($data['nav']);
        foreach ($data['programmes'] ?? [] as $i => $programme) {
            unset($data['programmes'][$i]['topicschart'], $data['programmes'][$i]['historychart']);
            foreach ($programme['members'] ?? [] as $j => $member) {
                unset($data['programmes'][$i]['members'][$j]['chart']);
            }
        }
        return $data;
    }

    /**
     * The renderer (in a web service $OUTPUT is a stand-in until the first output).
     *
     * @return \renderer_base
     */
    protected static function output(): \renderer_base {
        global $PAGE;
        return $PAGE->get_renderer('core');
    }

    /**
     * One template as the app wants it.
     *
     * @param string $template
     * @param array $data
     * @param array $otherdata
     * @return array
     */
    protected static function content(string $template, array $data, array $otherdata = []): array {
        return [
            'templates' => [['id' => 'main', 'html' => self::output()->render_from_template('local_buyin/' . $template, $data)]],
            'javascript' => '',
            'otherdata' => $otherdata,
        ];
    }

    /**
     * My results.
     *
     * @param array $args the app's arguments (userid, applang, ...)
     * @return array
     */
    public static function mobile_my_results(array $args): array {
        global $USER;
        require_login(null, false);
        $data = (new my_results((int) $USER->id))->export_for_template(self::output());
        return self::content('mobile_myresults', self::strip($data));
    }

    /**
     * My team: each waiting request opens the request in the app.
     *
     * @param array $args
     * @return array
     */
    public static function mobile_my_team(array $args): array {
        global $USER;
        require_login(null, false);
        $data = self::strip((new my_team((int) $USER->id))->export_for_template(self::output()));
        foreach ($data['programmes'] as $i => $programme) {
            foreach ($programme['members'] as $j => $member) {
                $query = parse_url((string) $member['signurl'], PHP_URL_QUERY) ?: '';
                parse_str($query, $params);
                $data['programmes'][$i]['members'][$j]['requestid'] = (int) ($params['requestid'] ?? 0);
            }
        }
        return self::content('mobile_myteam', $data);
    }

    /**
     * Sign-off requests; with args requestid, that request with its sign off and send back.
     *
     * @param array $args
     * @return array
     */
    public static function mobile_signoff(array $args): array {
        global $DB, $USER;
        require_login(null, false);
        $requestid = (int) ($args['requestid'] ?? 0);
        if (!$requestid) {
            return self::content('mobile_signoff', (new signoff_list((int) $USER->id))->export_for_template(self::output()));
        }
        $request = $DB->get_record(signoff_manager::TABLE, ['id' => $requestid], '*', MUST_EXIST);
        if ((int) $request->managerid !== (int) $USER->id) {
            throw new \moodle_exception('notyourrequest', 'local_buyin');
        }
        $data = (new signoff_request($request, (int) $USER->id, ''))->export_for_template(self::output());
        unset($data['nav'], $data['form']);
        $data += ['courseid' => (int) $request->courseid, 'userid' => (int) $request->userid];
        return self::content('mobile_signoff_request', $data, ['comment' => '']);
    }

    /**
     * At the app's start: a link handler for the plugin's pages, so that a notification's
     * link (contexturl) to My results, My team or a sign-off request opens that page in the
     * app instead of a browser.
     *
     * @param array $args
     * @return array
     */
    public static function mobile_init(array $args): array {
        $methods = json_encode(['myresults' => 'mobile_my_results', 'myteam' => 'mobile_my_team',
            'index' => 'mobile_signoff']);
        $titles = json_encode(['myresults' => get_string('myresults', 'local_buyin'),
            'myteam' => get_string('myteam', 'local_buyin'), 'index' => get_string('pendingtitle', 'local_buyin')]);
        $javascript = <<<JS
const that = this;
const methods = $methods;
const titles = $titles;
class LocalBuyinLinkHandler extends that.CoreContentLinksHandlerBase {
    constructor() {
        super();
        this.name = 'LocalBuyinLinkHandler';
        this.pattern = /\/local\/buyin\/(myresults|myteam|index)\.php/;
    }
    getActions(siteIds, url, params) {
        const page = url.match(/\/local\/buyin\/(myresults|myteam|index)\.php/)[1];
        const args = params.requestid ? {requestid: parseInt(params.requestid, 10)} : {};
        return [{
            action: (siteId) => {
                that.CoreNavigator.navigateToSitePath('siteplugins/content/local_buyin/' + methods[page] + '/0', {
                    params: {title: titles[page], args: args},
                    siteId: siteId,
                });
            },
        }];
    }
}
that.CoreContentLinksDelegate.registerHandler(new LocalBuyinLinkHandler());
JS;
        return ['templates' => [], 'javascript' => $javascript, 'otherdata' => []];
    }
}
