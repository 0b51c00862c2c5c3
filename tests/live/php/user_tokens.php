<?php
// Live tests: a token on local_buyin's service for each user named on the command line,
// as an admin would give one (the user authorised on the service, webservice/rest:use
// allowed to authenticated users). Prints {"username": "token", ...} as JSON.
define('CLI_SCRIPT', true);
require(getenv('LAB') . '/moodle/config.php');
require_once($CFG->libdir . '/externallib.php');
global $DB;
$svc = $DB->get_record('external_services', ['component' => 'local_buyin'], '*', MUST_EXIST);
$userrole = $DB->get_record('role', ['shortname' => 'user'], '*', MUST_EXIST);
assign_capability('webservice/rest:use', CAP_ALLOW, $userrole->id, context_system::instance()->id, true);
accesslib_clear_all_caches(true);
$tokens = [];
foreach (array_slice($argv, 1) as $username) {
    $user = $DB->get_record('user', ['username' => $username], '*', MUST_EXIST);
    if (!$DB->record_exists('external_services_users', ['externalserviceid' => $svc->id, 'userid' => $user->id])) {
        $DB->insert_record('external_services_users',
            (object) ['externalserviceid' => $svc->id, 'userid' => $user->id, 'timecreated' => time()]);
    }
    $tokens[$username] = \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $svc, $user->id,
        context_system::instance(), 0, '', 'live test token');
}
echo json_encode($tokens), "\n";
