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
 * Hook callbacks of local_buyin.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class hook_callbacks {

    /**
     * Add "Sign-off requests (N)" to the user menu of a user with requests waiting for them.
     *
     * Uses the stdClass navitem form of \core_user\hook\extend_user_menu::add_navitem()
     * (the form Moodle 4.5 to 5.1 understand; see user_get_user_navigation_info()).
     *
     * @param \core_user\hook\extend_user_menu $hook
     */
    public static function extend_user_menu(\core_user\hook\extend_user_menu $hook): void {
        global $USER;
        if (!self::menu_applies()) {
            return;
        }
        try {
            $pending = signoff_manager::count_pending_for_manager((int) $USER->id);
        } catch (\dml_exception $e) {
            // The user menu must never break a page.
            return;
        }
        if ($pending < 1) {
            return;
        }
        $item = new \stdClass();
        $item->itemtype = 'link';
        $item->url = new \moodle_url('/local/buyin/index.php');
        $item->title = get_string('usermenuitem', 'local_buyin', $pending);
        $item->titleidentifier = 'usermenuitem,local_buyin';
        $item->pix = 'i/checked';
        $hook->add_navitem($item);
    }

    /**
     * Add "My results" for a user with figures of their own and "My team" for a user whom
     * the agent named as someone's manager; nobody else sees either entry.
     *
     * @param \core_user\hook\extend_user_menu $hook
     */
    public static function extend_user_menu_figures(\core_user\hook\extend_user_menu $hook): void {
        global $USER;
        if (!self::menu_applies()) {
            return;
        }
        try {
            [$results, $team] = figures_manager::has_pages((int) $USER->id);
        } catch (\dml_exception $e) {
            // The table is not there yet (code newer than the database): the menu must never break a page.
            return;
        }
        $pages = [
            'usermenumyresults' => [$results, '/local/buyin/myresults.php', 'i/report'],
            'usermenumyteam' => [$team, '/local/buyin/myteam.php', 'i/users'],
        ];
        foreach ($pages as $stringid => [$show, $path, $pix]) {
            if (!$show) {
                continue;
            }
            $item = new \stdClass();
            $item->itemtype = 'link';
            $item->url = new \moodle_url($path);
            $item->title = get_string($stringid, 'local_buyin');
            $item->titleidentifier = $stringid . ',local_buyin';
            $item->pix = $pix;
            $hook->add_navitem($item);
        }
    }

    /**
     * Whether the user menu may be extended now: a logged-in, non-guest user on a site where
     * the plugin is installed. Hook callbacks are read from every plugin on disk, installed
     * or not: never touch the tables before the plugin is installed, nor during an upgrade.
     *
     * @return bool
     */
    protected static function menu_applies(): bool {
        global $CFG;
        if (during_initial_install() || !empty($CFG->upgraderunning) || !get_config('local_buyin', 'version')) {
            return false;
        }
        return isloggedin() && !isguestuser();
    }
}
