"""Self-tests of the SIP peers (sip_peers.py, peers/): Kamailio and SIPp
against each other, without atad."""

import time

import pytest

from conftest import wait_until
from sip_peers import (USERS, kamailio, sipp, sipsak_register, sip_request,  # noqa: F401 (fixtures)
                       status_code)
from test_dialogs import parse_trace, responses_to, say_go


def test_kamailio_registers_with_digest_and_lists_the_contact(kamailio):
    proxy = kamailio.start()
    assert proxy.registrations("1001@atad.test") == []
    code, output = sipsak_register(proxy, "1001", USERS["1001"], contact="sip:1001@127.0.0.1:5999")
    assert code == 0, output
    assert "401" in proxy.log() or "authorizing" in output, output  # it was challenged first
    contacts = proxy.wait_registered("1001@atad.test", "sip:1001@127.0.0.1:5999")
    assert contacts[0]["expires"] > 0
    assert proxy.registrations("1002@atad.test") == []


def test_kamailio_refuses_a_wrong_password_and_an_unknown_user(kamailio):
    proxy = kamailio.start()
    code, output = sipsak_register(proxy, "1001", "wrong")
    assert code != 0 and "403 Forbidden" in output, output
    code, output = sipsak_register(proxy, "3000", "secret3000")
    assert code != 0 and "403 Forbidden" in output, output
    assert proxy.registrations("1001@atad.test") == []
    # Without credentials, a REGISTER is challenged.
    response = sip_request(*proxy.address, "REGISTER", uri=f"sip:atad.test", timeout=2.0)
    assert status_code(response) == 401 and 'realm="atad.test"' in response, response


def test_sipp_uac_call_against_sipp_uas(sipp):
    uas = sipp.uas("uas_answer.xml", timeout=15)
    uac = sipp.uac("uac_call.xml", remote=uas.address, service="1001", keys={"caller": "2000"},
                   timeout=15, extra=["-d", "200"])
    uac.assert_success()
    uas.assert_success()
    assert uas.received("INVITE") == 1 and uas.received("BYE") == 1


@pytest.mark.parametrize("uac_scenario, uas_scenario", [
    ("uac_bye_from_far_end.xml", "uas_answer_bye.xml"),
    ("uac_cancel.xml", "uas_ring_cancelled.xml"),
    ("uac_reinvite_hold.xml", "uas_hold.xml"),
    ("uac_options.xml", "uas_options.xml"),
])
def test_scenario_pairs_complete(sipp, uac_scenario, uas_scenario):
    uas = sipp.uas(uas_scenario, timeout=15)
    uac = sipp.uac(uac_scenario, remote=uas.address, service="1001", keys={"caller": "2000"},
                   timeout=15, extra=["-d", "100"])
    uac.assert_success()
    uas.assert_success()


def test_hold_scenario_fails_when_the_answer_is_not_recvonly(sipp):
    uas = sipp.uas("uas_answer_bye.xml", timeout=10)
    uac = sipp.uac("uac_reinvite_hold.xml", remote=uas.address, service="1001",
                   keys={"caller": "2000"}, timeout=10, extra=["-d", "100"])
    assert uac.wait() != 0, uac.logs()


def test_retransmission_scenario_waits_for_two_copies(sipp):
    uas = sipp.uas("uas_retransmissions.xml", timeout=15)
    uac = sipp.uac("uac_call.xml", remote=uas.address, service="1001", keys={"caller": "2000"}, timeout=15)
    uac.assert_success()
    uas.assert_success()
    assert uas.received("INVITE") >= 3, uas.logs()


def test_call_through_kamailio_to_the_trunk_prefix(kamailio, sipp):
    uas = sipp.uas("uas_answer.xml", timeout=20)
    proxy = kamailio.start(trunk=uas.address)
    uac = sipp.uac("uac_call.xml", remote=proxy.address, service="9123", keys={"caller": "1001"},
                   auth=("1001", USERS["1001"]), timeout=20, extra=["-d", "200"])
    uac.assert_success()
    uas.assert_success()
    assert uac.received("SIP/2.0 407") == 1, uac.logs()  # digest required for our users
    assert "Record-Route:" in uas.messages() and f":{proxy.port};lr" in uas.messages()
    assert uas.received("BYE") == 1  # the BYE followed the record-route


def test_call_through_kamailio_to_a_registered_user(kamailio, sipp):
    uas = sipp.uas("uas_answer_bye.xml", timeout=20)
    proxy = kamailio.start()
    code, output = sipsak_register(proxy, "1002", USERS["1002"], contact=f"sip:1002@127.0.0.1:{uas.port}")
    assert code == 0, output
    proxy.wait_registered("1002@atad.test", f":{uas.port}")
    # A caller that is not one of the users: not challenged (a "carrier").
    uac = sipp.uac("uac_bye_from_far_end.xml", remote=proxy.address, service="1002",
                   keys={"caller": "carrier"}, timeout=20, extra=["-d", "100"])
    uac.assert_success()
    uas.assert_success()
    assert uac.received("SIP/2.0 407") == 0


def test_kamailio_unknown_number_is_not_found(kamailio):
    proxy = kamailio.start()
    response = sip_request(*proxy.address, "INVITE", uri=f"sip:1001@{proxy.ip}:{proxy.port}", timeout=3.0)
    assert status_code(response) == 404, response


def test_kamailio_restarts_on_the_same_port(kamailio):
    proxy = kamailio.start()
    first_pid, port = proxy.pid, proxy.port
    code, output = sipsak_register(proxy, "2000", USERS["2000"])
    assert code == 0, output
    proxy.wait_registered("2000")
    proxy.restart()
    assert proxy.pid != first_pid and proxy.port == port and proxy.running()
    assert status_code(proxy.options("udp")) == 200 and status_code(proxy.options("tcp")) == 200
    assert proxy.registrations("2000") == []  # usrloc is in memory
    code, output = sipsak_register(proxy, "2000", USERS["2000"])
    assert code == 0, output
    proxy.wait_registered("2000")


# ---------------------------------------------------------------------------
# The scenarios of test_dialogs.py against a far end that gets them right


def test_retransmitted_bye_scenario_gets_the_second_200(sipp):
    uas = sipp.uas("uas_bye_twice.xml", timeout=15)
    uac = sipp.uac("uac_bye_retransmitted.xml", remote=uas.address, service="1001", keys={"caller": "2000"},
                   timeout=15, extra=["-d", "100", "-nr"])
    uac.assert_success()
    uas.assert_success()
    assert [m.code for m in responses_to(uac, "2 BYE")] == [200, 200], uac.logs()
    assert uas.received("BYE") == 2


def test_forged_requests_scenario_waits_for_the_go_and_takes_481(sipp):
    uas = sipp.uas("uas_forged_refused.xml", timeout=15)
    uac = sipp.uac("uac_forged_requests.xml", remote=uas.address, service="1001",
                   keys={"caller": "2000", "rtp_ip": "127.0.0.1", "rtp_port": "9"}, timeout=15)
    wait_until(lambda: uas.received("ACK") == 1, 5, "the call to be up")
    say_go(uac)
    wait_until(lambda: uac.received("SIP/2.0 481") == 4, 5, "the four 481s")
    assert uas.received("BYE") == 2  # held back until the second go
    say_go(uac)
    uac.assert_success()
    uas.assert_success()
    sent = [(m.method, m.header("From").rsplit("tag=", 1)[1], m.header("To").rsplit("tag=", 1)[1])
            for m in parse_trace(uac) if not m.received and m.method in ("BYE", "INVITE") and "tag=" in m.header("To")]
    assert [method for method, _, _ in sent] == ["BYE", "INVITE", "BYE", "INVITE", "BYE"], sent
    (_, from_tag, to_tag), forged = sent[-1], sent[:-1]
    assert [(f != from_tag, t != to_tag) for _, f, t in forged] == [(True, False), (True, False),
                                                                  (False, True), (False, True)], sent


def test_lost_ack_scenario_waits_for_two_copies_of_the_200(sipp):
    uas = sipp.uas("uas_reinvite_ack_lost.xml", timeout=15)
    uac = sipp.uac("uac_reinvite_ack_lost.xml", remote=uas.address, service="1001", keys={"caller": "2000"},
                   timeout=15, extra=["-d", "100", "-nr"])
    uac.assert_success()
    uas.assert_success()
    assert len([m for m in responses_to(uac, "2 INVITE") if m.code == 200]) == 3, uac.logs()


def test_cancel_ignoring_scenario_answers_9002(sipp):
    uas = sipp.uas("uas_cancel_ignored.xml", timeout=15)
    uac = sipp.uac("uac_call.xml", remote=uas.address, service="9002", keys={"caller": "2000"},
                   timeout=15, extra=["-d", "100"])
    uac.assert_success()
    uas.assert_success()


@pytest.mark.parametrize("challenge_bye", [False, True])
def test_kamailio_challenges_a_bye_only_when_told(kamailio, sipp, challenge_bye):
    """challenge_bye=True: a BYE from one of the users gets 407 and goes
    through with that user's credentials. Off (the default): the same
    scenario fails, its BYE answered 200 at once."""
    uas = sipp.uas("uas_answer.xml", timeout=20)
    proxy = kamailio.start(trunk=uas.address, challenge_bye=challenge_bye)
    uac = sipp.uac("uac_bye_challenged.xml", remote=proxy.address, service="9123", keys={"caller": "1001"},
                   auth=("1001", USERS["1001"]), timeout=20, extra=["-d", "200"])
    if challenge_bye:
        uac.assert_success()
        uas.assert_success()
        assert uac.received("SIP/2.0 407") == 2, uac.logs()  # the INVITE's and the BYE's
        assert uas.received("BYE") == 1
        assert "Proxy-Authorization" not in uas.messages()  # consumed by the proxy
        assert "bye: BYE from 1001 with credentials of 1001" in proxy.log()
    else:
        assert uac.wait() != 0, uac.logs()
        assert uac.received("SIP/2.0 407") == 1 and uas.received("BYE") == 1, uac.logs()
        assert "bye:" not in proxy.log()
