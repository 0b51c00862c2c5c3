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
 * Upgrade steps of local_buyin.
 *
 * 0.1.0 (2026112300) to 0.2.0 (2026120100): two web-service functions (the service is
 * re-synced from db/services.php by Moodle itself) and two events; no table or field is
 * added or changed, so the sign-off requests and decisions stay as they are. Any table or
 * field added later gets its own step here.
 *
 * 2026120200: the table local_buyin_lease (one agent per programme) and the functions
 * local_buyin_acquire_lease / local_buyin_release_lease.
 * 0.2.0 to 0.3.0 (2026120300): the table local_buyin_figures (the My results and My team
 * pages); nothing else changes, the sign-off requests and decisions stay as they are.
 * 0.3.0 to 0.4.0 (2026120400): the table local_buyin_notification (the keys of the
 * notifications local_buyin_send_notifications sent) and the message providers of
 * db/messages.php (Moodle installs them itself); every request, decision, figure and lease
 * stays as it is.
 * 2026120401: the field token of local_buyin_lease (a fencing token per run: a copy or
 * an old backup of an agent's state is refused); every lease row is kept, with an empty
 * token (the next run of its holder sets one).
 * 2026120402 (0.4.0): local_buyin_get_signoffs reads after a (timemodified, id) position
 * (afterid); nothing in the database changes.
 *
 * @package    local_buyin
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

/**
 * Upgrade local_buyin.
 *
 * @param int $oldversion the version installed
 * @return bool
 */
function xmldb_local_buyin_upgrade($oldversion): bool {
    global $DB;
    $dbman = $DB->get_manager();

    if ($oldversion < 2026120100) {
        // Nothing in the database changes: the step records the new version only.
        upgrade_plugin_savepoint(true, 2026120100, 'local', 'buyin');
    }

    if ($oldversion < 2026120200) {
        $table = new xmldb_table('local_buyin_lease');
        $table->add_field('id', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, XMLDB_SEQUENCE, null);
        $table->add_field('programme', XMLDB_TYPE_CHAR, '100', null, XMLDB_NOTNULL, null, null);
        $table->add_field('holder', XMLDB_TYPE_CHAR, '255', null, XMLDB_NOTNULL, null, null);
        $table->add_field('timeacquired', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_field('timeexpires', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_field('timemodified', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_key('primary', XMLDB_KEY_PRIMARY, ['id']);
        $table->add_index('programme', XMLDB_INDEX_UNIQUE, ['programme']);
        if (!$dbman->table_exists($table)) {
            $dbman->create_table($table);
        }
        upgrade_plugin_savepoint(true, 2026120200, 'local', 'buyin');
    }

    if ($oldversion < 2026120300) {
        // 0.3.0: the figures of the My results and My team pages (issue #13).
        $table = new xmldb_table('local_buyin_figures');
        $table->add_field('id', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, XMLDB_SEQUENCE, null);
        $table->add_field('courseid', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, null);
        $table->add_field('userid', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, null);
        $table->add_field('role', XMLDB_TYPE_CHAR, '10', null, XMLDB_NOTNULL, null, 'learner');
        $table->add_field('managerid', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_field('figures', XMLDB_TYPE_TEXT, null, null, null, null, null);
        $table->add_field('timecreated', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_field('timemodified', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_key('primary', XMLDB_KEY_PRIMARY, ['id']);
        $table->add_key('courseid', XMLDB_KEY_FOREIGN, ['courseid'], 'course', ['id']);
        $table->add_key('userid', XMLDB_KEY_FOREIGN, ['userid'], 'user', ['id']);
        $table->add_key('managerid', XMLDB_KEY_FOREIGN, ['managerid'], 'user', ['id']);
        $table->add_index('courseid-userid-role', XMLDB_INDEX_UNIQUE, ['courseid', 'userid', 'role']);
        $table->add_index('managerid-role', XMLDB_INDEX_NOTUNIQUE, ['managerid', 'role']);
        if (!$dbman->table_exists($table)) {
            $dbman->create_table($table);
        }
        upgrade_plugin_savepoint(true, 2026120300, 'local', 'buyin');
    }

    if ($oldversion < 2026120400) {
        // 0.4.0: notifications through the plugin's message providers (issue #22).
        $table = new xmldb_table('local_buyin_notification');
        $table->add_field('id', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, XMLDB_SEQUENCE, null);
        $table->add_field('idempotencykey', XMLDB_TYPE_CHAR, '100', null, XMLDB_NOTNULL, null, null);
        $table->add_field('userid', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, null);
        $table->add_field('kind', XMLDB_TYPE_CHAR, '30', null, XMLDB_NOTNULL, null, null);
        $table->add_field('template', XMLDB_TYPE_CHAR, '100', null, XMLDB_NOTNULL, null, null);
        $table->add_field('messageid', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_field('timecreated', XMLDB_TYPE_INTEGER, '10', null, XMLDB_NOTNULL, null, '0');
        $table->add_key('primary', XMLDB_KEY_PRIMARY, ['id']);
        $table->add_key('userid', XMLDB_KEY_FOREIGN, ['userid'], 'user', ['id']);
        $table->add_index('idempotencykey', XMLDB_INDEX_UNIQUE, ['idempotencykey']);
        if (!$dbman->table_exists($table)) {
            $dbman->create_table($table);
        }
        upgrade_plugin_savepoint(true, 2026120400, 'local', 'buyin');
    }

    if ($oldversion < 2026120401) {
        // The fencing token of each lease (issue #25); existing rows keep everything.
        $table = new xmldb_table('local_buyin_lease');
        $field = new xmldb_field('token', XMLDB_TYPE_CHAR, '64', null, XMLDB_NOTNULL, null, '', 'timemodified');
        if (!$dbman->field_exists($table, $field)) {
            $dbman->add_field($table, $field);
        }
        upgrade_plugin_savepoint(true, 2026120401, 'local', 'buyin');
    }

    if ($oldversion < 2026120402) {
        // 0.4.0: local_buyin_get_signoffs takes afterid (a position that is never read
        // twice); no table or field changes: the step records the new version only.
        upgrade_plugin_savepoint(true, 2026120402, 'local', 'buyin');
    }
    return true;
}
