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
 * Capabilities of local_buyin.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$capabilities = [

    // A line manager signing off the course completion of their own reports.
    // Holding it is necessary but not sufficient: the request must also name the user
    // as the learner's manager (local_buyin_signoff.managerid). Checked in the course
    // context, or in the learner's user context (for roles assigned there, e.g. a
    // "Parent"/mentor-style role), so it is defined at course level.
    // RISK_PERSONAL: the holder sees the learner's name, course and progress and
    // writes a comment about them.
    // The site's own sign-off role (the one named by the course's "Manual completion
    // by others" criterion) must be given this capability by the admin; the two
    // archetypes below only cover the usual teacher and manager roles.
    'local/buyin:signoff' => [
        'riskbitmask' => RISK_PERSONAL,
        'captype' => 'write',
        'contextlevel' => CONTEXT_COURSE,
        'archetypes' => [
            'editingteacher' => CAP_ALLOW,
            'manager' => CAP_ALLOW,
        ],
    ],

    // The moodle-buyin agent's web-service user: create/update sign-off requests and
    // read every request's state, site-wide.
    // RISK_PERSONAL: it reads who manages whom and the managers' comments in every course.
    // RISK_CONFIG: it decides who may sign off a learner's course completion (it sets
    // and changes managerid), i.e. it configures the completion workflow. It is not
    // RISK_XSS (nothing it writes is rendered as HTML) nor RISK_DATALOSS (it never
    // deletes or reverts a decision).
    // Only the system-level Manager archetype gets it by default; give it to the
    // dedicated role of the agent's web-service user.
    'local/buyin:agent' => [
        'riskbitmask' => RISK_PERSONAL | RISK_CONFIG,
        'captype' => 'write',
        'contextlevel' => CONTEXT_SYSTEM,
        'archetypes' => [
            'manager' => CAP_ALLOW,
        ],
    ],
];
