"""The callback_url guard at submission: https only, public addresses only, on the URL as written and
on every address its name resolves to. Names are resolved by a stub: no test looks anything up."""

from __future__ import annotations

import pytest

from tests.events import api_event

REFUSED_ADDRESSES = [
    ("10.0.0.1", "private"),
    ("10.255.255.254", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.0.1", "private"),
    ("100.64.0.1", "not a public address"),
    ("100.127.255.254", "not a public address"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("169.254.1.1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"),
    ("255.255.255.255", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("febf::1", "link-local"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "metadata"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "IPv4-mapped form of a loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped form of an instance metadata"),
    ("::ffff:10.0.0.1", "IPv4-mapped form of a private"),
    ("64:ff9b::a9fe:a9fe", "NAT64 form of an instance metadata"),
    ("64:ff9b::7f00:1", "NAT64 form of a loopback"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:a9fe:a9fe::", "6to4"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("::7f00:1", "IPv4-compatible"),
    ("::a9fe:a9fe", "IPv4-compatible"),
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
          "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]  # fmt: skip


def submit_with(tasklane, url, **fields):
    body = {"task_type": "echo", "payload": {}, "callback_url": url, **fields}
    return tasklane.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))


def assert_refused(answer, words=""):
    assert answer.status == 422, answer.body
    details = answer.body["error"]["details"]
    assert [d["field"] for d in details] == ["callback_url"], details
    assert words in details[0]["message"], details


def _host(address):
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize(("address", "why"), REFUSED_ADDRESSES)
def test_a_url_written_with_a_non_public_address_is_refused(tasklane, resolver, address, why):
    assert_refused(submit_with(tasklane, f"https://{_host(address)}/hook"), why)
    assert resolver.asked == []


@pytest.mark.parametrize(("address", "why"), REFUSED_ADDRESSES)
def test_a_name_that_resolves_to_a_non_public_address_is_refused(tasklane, resolver, address, why):
    resolver.names["hooks.example.com"] = [address]
    assert_refused(submit_with(tasklane, "https://hooks.example.com/hook"), why)
    assert resolver.asked == ["hooks.example.com"]


def test_one_private_answer_among_public_ones_refuses_the_name(tasklane, resolver):
    resolver.names["mixed.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07::1", "10.1.2.3"]
    assert_refused(submit_with(tasklane, "https://mixed.example.com/"), "private")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_and_names_are_accepted(tasklane, resolver, address):
    resolver.names["hooks.example.com"] = [address]
    for url in (f"https://{_host(address)}/hook", "https://hooks.example.com:8443/hook?x=1"):
        answer = submit_with(tasklane, url)
        assert answer.status == 202, answer.body
        assert answer.body["callback"] == {"url": url, "deliveries": []}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/hook", "https"),
        ("ftp://hooks.example.com/hook", "https"),
        ("hooks.example.com/hook", "https"),
        ("https://user:pass@hooks.example.com/hook", "credentials"),
        ("https://user@hooks.example.com/hook", "credentials"),
        ("https:///hook", "host"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://hooks.example.com:0/", "port 0"),
        ("https://hooks.example.com@169.254.169.254/", "credentials"),
        ("https://%31%32%37.0.0.1/", "percent-encoded"),
        ("https://hooks example.com/", "spaces"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "control"),
        ("https://hôoks.example.com/", "ASCII"),
        ("https://[fe80::1%25eth0]/", "IPv6 zone"),
        ("https://hooks_.example.com/", "invalid host"),
    ],
)
def test_malformed_urls_are_refused_naming_the_field(tasklane, resolver, url, words):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    assert_refused(submit_with(tasklane, url), words)


def _url_of_length(n):
    base = "https://hooks.example.com/"
    return base + "a" * (n - len(base))


@pytest.mark.parametrize(("length", "accepted"), [(2047, True), (2048, True), (2049, False)])
def test_the_url_length_limit_is_2048_characters(tasklane, resolver, length, accepted):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    answer = submit_with(tasklane, _url_of_length(length))
    if accepted:
        assert answer.status == 202, answer.body
    else:
        assert_refused(answer, "2048")


def test_a_name_dns_says_does_not_exist_is_refused_but_a_passing_dns_failure_is_accepted(tasklane, resolver):
    assert_refused(submit_with(tasklane, "https://no-such-host.example.com/"), "does not resolve")
    resolver.flaky.add("flaky.example.com")
    assert submit_with(tasklane, "https://flaky.example.com/").status == 202  # checked again at delivery


def test_a_batch_refuses_only_the_item_with_a_bad_callback(tasklane, resolver):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    resolver.names["internal.example.com"] = ["192.168.1.10"]
    tasks = [
        {"task_type": "echo", "callback_url": "https://hooks.example.com/"},
        {"task_type": "echo", "callback_url": "https://169.254.169.254/latest/meta-data/"},
        {"task_type": "echo", "callback_url": "https://internal.example.com/"},
        {"task_type": "echo"},
    ]
    answer = tasklane.call(api_event("submit_batch", body={"tasks": tasks}, headers={"Idempotency-Key": None}))
    assert answer.status == 202
    results = answer.body["results"]
    assert "task" in results[0]
    assert "task" in results[3]
    for refused in results[1:3]:
        assert [d["field"] for d in refused["error"]["details"]] == ["callback_url"]


@pytest.fixture
def loopback_allowed(tasklane, monkeypatch):
    """CallbackAllowLoopback=true, as the local stack's samconfig sets it."""
    from tasklane.settings import webhooks

    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    webhooks.webhook_settings.cache_clear()
    yield
    webhooks.webhook_settings.cache_clear()


def test_without_the_loopback_parameter_http_and_127_0_0_1_are_refused(tasklane, resolver):
    assert_refused(submit_with(tasklane, "http://127.0.0.1:8080/hook"), "loopback")
    assert_refused(submit_with(tasklane, "https://127.0.0.1:8080/hook"), "loopback")


def test_the_loopback_parameter_opens_127_0_0_1_and_nothing_else(tasklane, resolver, loopback_allowed):
    resolver.names["localhost"] = ["127.0.0.1"]
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    for url in ("http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://hooks.example.com/"):
        assert submit_with(tasklane, url).status == 202, url
    for url, words in (
        ("http://127.0.0.2:8080/hook", "loopback"),
        ("http://localhost:8080/hook", "https"),
        ("https://localhost:8080/hook", "loopback"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://169.254.1.1/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://hooks.example.com/", "https"),  # http stays refused for every other host
    ):
        assert_refused(submit_with(tasklane, url), words)


def test_a_submission_parses_its_callback_url_once(tasklane, resolver, monkeypatch):
    from tasklane.destinations import check, urls

    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    parsed = []
    original = urls.parse_target
    counted = lambda url, **kw: parsed.append(url) or original(url, **kw)  # noqa: E731
    monkeypatch.setattr(urls, "parse_target", counted)
    monkeypatch.setattr(check, "parse_target", counted)
    assert submit_with(tasklane, "https://hooks.example.com/a").status == 202
    assert parsed == ["https://hooks.example.com/a"]
