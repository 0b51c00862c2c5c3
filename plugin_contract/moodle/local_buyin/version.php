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
 * Version information for local_buyin.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_buyin';
$plugin->version = 2026120402;
// Moodle 4.5 LTS (Build: 20241007) is the oldest release with everything used here:
// \core_external\* classes, the \core_user\hook\extend_user_menu hook (new in 4.5).
$plugin->requires = 2024100700;
// Tested branches: 4.5 LTS up to 5.1.
$plugin->supported = [405, 501];
$plugin->maturity = MATURITY_BETA;
$plugin->release = '0.4.0';
