#!/usr/bin/python3
"""Regenerates samples/: the demo mailbox's messages and their DNS zone.

The samples are committed; this script documents how they were made and lets them be
rebuilt (it needs Debian's python3-dkim and the keys in samples/keys/). It is not run by
the build or the tests.

Usage: tools/make-samples.py [SAMPLES_DIR]
"""
import base64
import email
import email.utils
import subprocess
import sys
from pathlib import Path

import dkim

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "samples"
KEYS = ROOT / "keys"

# The user's own provider: its MX writes the boundary Received, its LMTP the top one.
PROVIDER_MX = "mx1.example.net"
PROVIDER_LMTP = "imap.example.net"


def pubkey_b64(name):
    der = subprocess.run(["openssl", "rsa", "-in", str(KEYS / f"{name}.pem"), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


def txt(value):
    """A zone-file TXT rdata, split into 255-octet strings."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)


def received_stack(date, helo, rdns, ip, envelope_from, qid):
    """Received fields as the user's provider writes them, topmost first."""
    return [
        f"Received: from {PROVIDER_MX} ({PROVIDER_MX} [10.20.0.5])\r\n"
        f"\tby {PROVIDER_LMTP} (Dovecot) with LMTP id {qid}L\r\n"
        f"\tfor <demo@example.net>; {date}",
        f"Received: from {helo} ({rdns} [{ip}])\r\n"
        f"\tby {PROVIDER_MX} (Postfix) with ESMTPS id {qid}\r\n"
        f"\tfor <demo@example.net>; {date}",
    ]


def message(headers, body):
    return ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def sign(msg, domain, selector, keyname, include=None):
    """Signs @msg with t= a few seconds before its Date: (as the sender's MTA would)."""
    key = (KEYS / f"{keyname}.pem").read_bytes()
    date = email.message_from_bytes(msg)["Date"]
    when = int(email.utils.parsedate_to_datetime(date).timestamp()) - 7
    dkim.time.time = lambda: when
    include = include or [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key, include_headers=include, linesep=b"\r\n")
    return sig + msg


SAMPLES = []


def sample(name, verdict, description, data):
    SAMPLES.append((name, verdict, description, data))


def main():
    # 1. The paper's case: citibank.com spoofed from 42.127.236.162, no DKIM.
    date = "Mon, 23 Nov 2026 08:14:52 +0900"
    hdrs = ["Return-Path: <alert@citibank.com>"] + received_stack(
        date, "mail.citibank-secure-login.com", "unknown", "42.127.236.162", "alert@citibank.com", "4Hx2kQ0zF7z1") + [
        "From: Citibank Online <alert@citibank.com>",
        "To: demo@example.net",
        "Subject: =?UTF-8?B?W+mHjeimgV0g44Ki44Kr44Km44Oz44OI44Gu56K66KqN44GM5b+F6KaB44Gn44GZ?=",
        f"Date: {date}",
        "Message-ID: <20261123081452.4Hx2kQ0zF7z1@citibank-secure-login.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    body = ("お客様のアカウントに異常なアクセスがありました。\n"
            "下記のリンクから24時間以内に本人確認を行ってください。\n\n"
            "http://citibank.com.account-verify.example/login\n\nCitibank Online\n")
    sample("01-citibank-spoofed.eml", "reject",
           "The paper's spoofed Citibank mail: sent from 42.127.236.162, which citibank.com's SPF "
           "does not list, no DKIM signature; citibank.com publishes p=reject.",
           message(hdrs, body))

    # 2. A genuine, DKIM-signed message from a bank with p=reject.
    date = "Mon, 23 Nov 2026 09:02:11 +0000"
    inner = message([
        "From: Greenleaf Bank <alerts@greenleaf-bank.example>",
        "To: demo@example.net",
        "Subject: Your November statement is ready",
        f"Date: {date}",
        "Message-ID: <stmt-20261123-0931@greenleaf-bank.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ], "Dear customer,\n\nYour statement for November 2026 is available in online banking.\n"
       "We will never ask for your password by email.\n\nGreenleaf Bank\n")
    signed = sign(inner, "greenleaf-bank.example", "s2026", "greenleaf-bank")
    top = "\r\n".join(["Return-Path: <bounce-7781@greenleaf-bank.example>"] + received_stack(
        date, "out1.greenleaf-bank.example", "out1.greenleaf-bank.example", "203.0.114.25",
        "bounce-7781@greenleaf-bank.example", "4Hx3Pq1mKz9b")) + "\r\n"
    sample("02-genuine-bank.eml", "pass",
           "A genuine statement notice: DKIM-signed by greenleaf-bank.example and sent from its "
           "listed server; DMARC passes.", top.encode() + signed)

    # 3. p=none: a newsletter sent from a server its domain does not list.
    date = "Mon, 23 Nov 2026 09:40:00 +0000"
    hdrs = ["Return-Path: <news@weekly-digest.example>"] + received_stack(
        date, "smtp.cheap-relay.example", "smtp.cheap-relay.example", "185.199.50.17",
        "news@weekly-digest.example", "4Hx4Aa2bCc3d") + [
        "From: Weekly Digest <news@weekly-digest.example>",
        "To: demo@example.net",
        "Subject: This week's top stories",
        f"Date: {date}",
        "Message-ID: <wd-2026-47@weekly-digest.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    sample("03-newsletter-p-none.eml", "fail-none",
           "Fails DMARC (unlisted server, no DKIM), but weekly-digest.example only monitors (p=none).",
           message(hdrs, "Top stories of the week...\n"))

    # 4. p=quarantine: a fake parcel notice.
    date = "Mon, 23 Nov 2026 10:05:33 +0000"
    hdrs = ["Return-Path: <noreply@parcel-express.example>"] + received_stack(
        date, "vps-2231.hosting.example", "vps-2231.hosting.example", "91.215.85.40",
        "noreply@parcel-express.example", "4Hx5Ee4fGg5h") + [
        "From: Parcel Express <noreply@parcel-express.example>",
        "To: demo@example.net",
        "Subject: Delivery attempt failed - pay the customs fee",
        f"Date: {date}",
        "Message-ID: <1f3e9a@vps-2231.hosting.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    sample("04-parcel-quarantine.eml", "quarantine",
           "A fake parcel notice from a server parcel-express.example does not list; its policy is quarantine.",
           message(hdrs, "We could not deliver your parcel. Pay 1.99 EUR here: http://parcel-fee.example/\n"))

    # 5. A spoofed DKIM d=: validly signed, but by a bulk mailer, not by the bank.
    date = "Mon, 23 Nov 2026 10:31:08 +0000"
    inner = message([
        "From: Greenleaf Bank Security <security@greenleaf-bank.example>",
        "To: demo@example.net",
        "Subject: Unusual sign-in: confirm your identity",
        f"Date: {date}",
        "Message-ID: <c0ffee-5521@bulk-mailer.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ], "We noticed an unusual sign-in. Confirm your identity within 24 hours:\n"
       "http://greenleaf-bank.example.secure-check.example/\n")
    signed = sign(inner, "bulk-mailer.example", "k1", "bulk-mailer")
    top = "\r\n".join(["Return-Path: <bounces+5521@bulk-mailer.example>"] + received_stack(
        date, "o1.bulk-mailer.example", "o1.bulk-mailer.example", "149.72.10.11",
        "bounces+5521@bulk-mailer.example", "4Hx6Ii6jKk7l")) + "\r\n"
    sample("05-spoofed-dkim-domain.eml", "reject",
           "Claims greenleaf-bank.example but is DKIM-signed by bulk-mailer.example and sent with "
           "bulk-mailer.example's envelope: SPF and DKIM pass for the wrong domain, so DMARC fails (p=reject).",
           top.encode() + signed)

    # 6. No DMARC record at all.
    date = "Mon, 23 Nov 2026 11:12:45 +0000"
    hdrs = ["Return-Path: <grandma@small-family.example>"] + received_stack(
        date, "mail.small-family.example", "mail.small-family.example", "62.210.16.61",
        "grandma@small-family.example", "4Hx7Mm8nOo9p") + [
        "From: Grandma <grandma@small-family.example>",
        "To: demo@example.net",
        "Subject: Photos from Sunday",
        f"Date: {date}",
        "Message-ID: <a81b2c@small-family.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    sample("06-no-dmarc-record.eml", "none",
           "small-family.example publishes SPF (which passes) but no DMARC record.",
           message(hdrs, "Here are the photos!\n"))

    # 7. A mailing list: the list added a subject tag and footer, breaking the author's
    # signature, and re-sent with its own envelope and DKIM signature.
    date = "Mon, 23 Nov 2026 11:48:19 +0000"
    orig = message([
        "From: Alice Example <alice@university.example>",
        "To: dev@lists.opensource.example",
        "Subject: Release 2.4 schedule",
        f"Date: {date}",
        "Message-ID: <rel24-alice@university.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ], "Hi all,\n\nThe 2.4 release is planned for December 1.\n\nAlice\n")
    author_signed = sign(orig, "university.example", "mail", "university")
    hdr_end = author_signed.index(b"\r\n\r\n")
    head, body = author_signed[:hdr_end].decode(), author_signed[hdr_end + 4:].decode()
    head = head.replace("Subject: Release 2.4 schedule", "Subject: [dev] Release 2.4 schedule")
    head += ("\r\nList-Id: Developers <dev.lists.opensource.example>"
             "\r\nList-Unsubscribe: <mailto:dev-leave@lists.opensource.example>"
             "\r\nSender: dev-bounces@lists.opensource.example")
    body += "_______________________________________________\r\ndev mailing list\r\nhttps://lists.opensource.example/dev\r\n"
    listed = (head + "\r\n\r\n" + body).encode()
    list_signed = sign(listed, "lists.opensource.example", "list", "lists-opensource",
                       include=[b"from", b"to", b"subject", b"date", b"message-id", b"list-id"])
    top = "\r\n".join(["Return-Path: <dev-bounces+demo=example.net@lists.opensource.example>"] + received_stack(
        date, "lists.opensource.example", "lists.opensource.example", "140.211.9.53",
        "dev-bounces+demo=example.net@lists.opensource.example", "4Hx8Qq0rSs1t")) + "\r\n"
    sample("07-mailing-list.eml", "fail-none",
           "A post by alice@university.example relayed by a mailing list that changed the subject and "
           "added a footer: the author's DKIM signature breaks, the list's passes but is not aligned; "
           "university.example monitors only (p=none).", top.encode() + list_signed)

    for name, verdict, description, data in SAMPLES:
        (ROOT / name).write_bytes(data)

    with open(ROOT / "expected.tsv", "w") as f:
        f.write("# file\texpected verdict\tdescription\n")
        for name, verdict, description, _ in SAMPLES:
            f.write(f"{name}\t{verdict}\t{description}\n")

    zone = f"""; DNS data of the samples (demo mailbox and tests). BIND-style zone text, read by
; spoofwatch-check --dns-zone and the demo account. Names under .example are reserved
; (RFC 2606); citibank.com's records are those quoted in the original paper.
$TTL 3600

; citibank.com as published when the paper's spoofed mail was received
citibank.com.                 IN TXT {txt("v=spf1 a:mail.citigroup.com ip4:217.29.160.12 ip4:84.45.73.5 include:spf-00123c01.pphosted.com ~all")}
citibank.com.                 IN MX 10 mx-a.citibank.com.
mx-a.citibank.com.            IN A 192.193.217.20
_dmarc.citibank.com.          IN TXT {txt("v=DMARC1; p=reject; rua=mailto:citi@rua.agari.com,mailto:dmarc.reports.rua@citi.com")}
mail.citigroup.com.           IN A 192.193.210.7
spf-00123c01.pphosted.com.    IN TXT {txt("v=spf1 ip4:67.231.153.0/24 ip4:67.231.145.0/24 ip4:67.231.149.0/24 ip4:67.231.152.48 -all")}

; greenleaf-bank.example: a bank that signs everything and rejects the rest
greenleaf-bank.example.       IN TXT {txt("v=spf1 ip4:203.0.114.0/26 -all")}
greenleaf-bank.example.       IN MX 10 mx.greenleaf-bank.example.
mx.greenleaf-bank.example.    IN A 203.0.114.10
out1.greenleaf-bank.example.  IN A 203.0.114.25
_dmarc.greenleaf-bank.example. IN TXT {txt("v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc@greenleaf-bank.example")}
s2026._domainkey.greenleaf-bank.example. IN TXT {txt("v=DKIM1; k=rsa; p=" + pubkey_b64("greenleaf-bank"))}

; weekly-digest.example: monitoring only
weekly-digest.example.        IN TXT {txt("v=spf1 include:_spf.newsletter-platform.example -all")}
_spf.newsletter-platform.example. IN TXT {txt("v=spf1 ip4:198.51.99.0/24 -all")}
_dmarc.weekly-digest.example. IN TXT {txt("v=DMARC1; p=none; rua=mailto:reports@weekly-digest.example")}

; parcel-express.example: quarantine
parcel-express.example.       IN TXT {txt("v=spf1 mx -all")}
parcel-express.example.       IN MX 10 mail.parcel-express.example.
mail.parcel-express.example.  IN A 81.2.69.160
_dmarc.parcel-express.example. IN TXT {txt("v=DMARC1; p=quarantine; sp=quarantine; rua=mailto:dmarc@parcel-express.example")}

; bulk-mailer.example: an email service provider with valid SPF and DKIM of its own
bulk-mailer.example.          IN TXT {txt("v=spf1 ip4:149.72.0.0/16 -all")}
k1._domainkey.bulk-mailer.example. IN TXT {txt("v=DKIM1; k=rsa; p=" + pubkey_b64("bulk-mailer"))}
_dmarc.bulk-mailer.example.   IN TXT {txt("v=DMARC1; p=none")}

; small-family.example: SPF only, no DMARC
small-family.example.         IN TXT {txt("v=spf1 a mx ip4:62.210.16.61 ~all")}
small-family.example.         IN MX 10 mail.small-family.example.
mail.small-family.example.    IN A 62.210.16.61

; university.example (author) and lists.opensource.example (mailing list)
university.example.           IN TXT {txt("v=spf1 ip4:128.30.2.0/24 -all")}
_dmarc.university.example.    IN TXT {txt("v=DMARC1; p=none; rua=mailto:dmarc@university.example")}
mail._domainkey.university.example. IN TXT {txt("v=DKIM1; k=rsa; p=" + pubkey_b64("university"))}
lists.opensource.example.     IN TXT {txt("v=spf1 ip4:140.211.9.0/24 -all")}
lists.opensource.example.     IN A 140.211.9.53
list._domainkey.lists.opensource.example. IN TXT {txt("v=DKIM1; k=rsa; p=" + pubkey_b64("lists-opensource"))}
_dmarc.opensource.example.    IN TXT {txt("v=DMARC1; p=none")}

; the user's provider
example.net.                  IN MX 10 mx1.example.net.
mx1.example.net.              IN A 198.18.0.1
"""
    (ROOT / "samples.zone").write_text(zone)


if __name__ == "__main__":
    main()
