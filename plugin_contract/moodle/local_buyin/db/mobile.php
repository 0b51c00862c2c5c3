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

/**
 * local_buyin in the Moodle app: My results, My team and Sign-off requests (with sign off and
 * send back) in the app's main menu; the content comes from \local_buyin\output\mobile, whose
 * init registers a link handler so that a notification's link to one of these pages opens it
 * in the app.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$addons = [
    'local_buyin' => [
        'handlers' => [
            'myresults' => [
                'delegate' => 'CoreMainMenuDelegate',
                'method' => 'mobile_my_results',
                // Registers the link handler: a notification's link opens its page in the app.
                'init' => 'mobile_init',
                'displaydata' => ['title' => 'myresults', 'icon' => 'fas-chart-bar'],
                'priority' => 300,
            ],
            'myteam' => [
                'delegate' => 'CoreMainMenuDelegate',
                'method' => 'mobile_my_team',
                'displaydata' => ['title' => 'myteam', 'icon' => 'fas-users'],
                'priority' => 290,
            ],
            'signoff' => [
                'delegate' => 'CoreMainMenuDelegate',
                'method' => 'mobile_signoff',
                'displaydata' => ['title' => 'pendingtitle', 'icon' => 'fas-check'],
                'priority' => 280,
            ],
        ],
        'lang' => [
            ['myresults', 'local_buyin'],
            ['myteam', 'local_buyin'],
            ['pendingtitle', 'local_buyin'],
            ['signedmessage', 'local_buyin'],
            ['rejectedmessage', 'local_buyin'],
            ['commentrequired', 'local_buyin'],
        ],
    ],
];
