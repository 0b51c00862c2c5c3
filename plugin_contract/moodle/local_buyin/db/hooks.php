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
 * Hook callbacks of local_buyin.
 *
 * The link to the manager's sign-off page goes into the user menu (avatar drop-down)
 * through \core_user\hook\extend_user_menu, new in Moodle 4.5 and unchanged up to 5.1:
 * the user menu is on every page of every theme, needs no lib.php callback (the
 * legacy *_extend_navigation* callbacks are being replaced by hooks), and the entry is
 * shown only to users who have requests waiting for them, so nobody else sees clutter.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$callbacks = [
    [
        'hook' => \core_user\hook\extend_user_menu::class,
        'callback' => [\local_buyin\hook_callbacks::class, 'extend_user_menu'],
        'priority' => 0,
    ],
    [
        // My results (learners) and My team (managers), for users with figures to see.
        'hook' => \core_user\hook\extend_user_menu::class,
        'callback' => [\local_buyin\hook_callbacks::class, 'extend_user_menu_figures'],
        'priority' => 0,
    ],
];
