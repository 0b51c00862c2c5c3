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

namespace local_buyin\external;

use core_external\external_api;

/**
 * Tests of local_buyin_acquire_lease and local_buyin_release_lease.
 *
 * @package    local_buyin
 * @category   test
 * @copyright  2026 moodle-buyin contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_buyin\external\acquire_lease
 * @covers     \local_buyin\external\release_lease
 * @covers     \local_buyin\lease_manager
 */
final class lease_test extends \advanced_testcase {

    /**
     * Every test starts from a clean site, as the agent's web-service user.
     */
    protected function setUp(): void {
        parent::setUp();
        $this->resetAfterTest();
        $generator = $this->getDataGenerator()->get_plugin_generator('local_buyin');
        $this->setUser($generator->create_agent_user());
    }

    /**
     * Acquire as the web-service layer does: execute, then clean the return value.
     *
     * @param string $holder
     * @param int $seconds
     * @return array
     */
    private function acquire(string $holder, int $seconds = 3600): array {
        $result = acquire_lease::execute('cc101', $holder, $seconds);
        return external_api::clean_returnvalue(acquire_lease::execute_returns(), $result);
    }

    /**
     * Release as the web-service layer does.
     *
     * @param string $holder
     * @return bool
     */
    private function release(string $holder): bool {
        $result = release_lease::execute('cc101', $holder);
        return external_api::clean_returnvalue(release_lease::execute_returns(), $result)['released'];
    }

    public function test_the_first_agent_gets_the_lease_and_a_second_is_refused(): void {
        $first = $this->acquire('agent-a@host1');
        $this->assertTrue($first['acquired']);
        $this->assertSame('agent-a@host1', $first['holder']);
        $this->assertGreaterThan(time(), $first['timeexpires']);

        $second = $this->acquire('agent-b@host2');
        $this->assertFalse($second['acquired']);
        $this->assertSame('agent-a@host1', $second['holder']);
        $this->assertSame($first['timeexpires'], $second['timeexpires']);
    }

    public function test_the_holder_renews_and_keeps_when_it_took_the_lease(): void {
        global $DB;
        $first = $this->acquire('agent-a@host1', 60);
        $DB->set_field('local_buyin_lease', 'timeacquired', 1000, ['programme' => 'cc101']);
        $again = $this->acquire('agent-a@host1', 7200);
        $this->assertTrue($again['acquired']);
        $this->assertSame(1000, $again['timeacquired']);
        $this->assertGreaterThan($first['timeexpires'], $again['timeexpires']);
        $this->assertSame(1, $DB->count_records('local_buyin_lease'));
    }

    public function test_an_expired_lease_is_taken_over(): void {
        global $DB;
        $this->acquire('agent-a@host1');
        $DB->set_field('local_buyin_lease', 'timeexpires', time() - 1, ['programme' => 'cc101']);
        $taken = $this->acquire('agent-b@host2');
        $this->assertTrue($taken['acquired']);
        $this->assertSame('agent-b@host2', $taken['holder']);
    }

    public function test_only_the_holder_releases_it(): void {
        global $DB;
        $this->acquire('agent-a@host1');
        $this->assertFalse($this->release('agent-b@host2'));
        $this->assertTrue($DB->record_exists('local_buyin_lease', ['programme' => 'cc101']));
        $this->assertTrue($this->release('agent-a@host1'));
        $this->assertFalse($DB->record_exists('local_buyin_lease', ['programme' => 'cc101']));
        $this->assertTrue($this->acquire('agent-b@host2')['acquired']);
    }

    /**
     * Acquire with a fencing token (0.4.0).
     *
     * @param string $holder
     * @param string $token
     * @param string $expected
     * @return array
     */
    private function acquire_fenced(string $holder, string $token, string $expected): array {
        $result = acquire_lease::execute('cc101', $holder, 3600, $token, $expected);
        return external_api::clean_returnvalue(acquire_lease::execute_returns(), $result);
    }

    public function test_a_copy_of_the_holders_state_is_refused_by_its_older_token(): void {
        global $DB;
        $this->assertTrue($this->acquire_fenced('agent-a@host1', 't1', '')['acquired']);
        $this->assertTrue($this->acquire_fenced('agent-a@host1', 't2', 't1')['acquired']);
        // the copy kept t1: same name, older token
        $copy = $this->acquire_fenced('agent-a@host1', 't9', 't1');
        $this->assertFalse($copy['acquired']);
        $this->assertSame('t2', $DB->get_field('local_buyin_lease', 'token', ['programme' => 'cc101']));
        // the original goes on
        $this->assertTrue($this->acquire_fenced('agent-a@host1', 't3', 't2')['acquired']);
    }

    public function test_a_lease_taken_before_the_tokens_is_matched_by_name_once(): void {
        global $DB;
        $this->acquire('agent-a@host1');
        $this->assertSame('', $DB->get_field('local_buyin_lease', 'token', ['programme' => 'cc101']));
        $this->assertTrue($this->acquire_fenced('agent-a@host1', 't1', '')['acquired']);
        $this->assertFalse($this->acquire_fenced('agent-a@host1', 't2', '')['acquired']);
    }

    public function test_release_by_force_frees_the_lease_whoever_holds_it(): void {
        global $DB;
        $this->acquire_fenced('agent-a@host1', 't1', '');
        $result = release_lease::execute('cc101', 'agent-a@host1-copy', true);
        $this->assertTrue(external_api::clean_returnvalue(release_lease::execute_returns(), $result)['released']);
        $this->assertFalse($DB->record_exists('local_buyin_lease', ['programme' => 'cc101']));
        $this->assertTrue($this->acquire_fenced('agent-a@host1-copy', 'c1', 't1')['acquired']);
        $this->assertFalse($this->acquire_fenced('agent-a@host1', 't2', 't1')['acquired']);
    }

    public function test_the_lease_length_is_bounded(): void {
        $lease = $this->acquire('agent-a@host1', 5);
        $this->assertGreaterThanOrEqual(time() + 60, $lease['timeexpires']);
        $lease = $this->acquire('agent-a@host1', PHP_INT_MAX);
        $this->assertLessThanOrEqual(time() + 2592000, $lease['timeexpires']);
    }

    public function test_requires_the_agent_capability(): void {
        $this->setUser($this->getDataGenerator()->create_user());
        $this->expectException(\required_capability_exception::class);
        $this->acquire('agent-a@host1');
    }
}
