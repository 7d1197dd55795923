/* Envelope reconstruction from full header stacks. */
#include "sw-envelope.h"
#include "sw-limits.h"
#include "sw-util.h"

#include <string.h>

typedef struct {
  const char        *name;
  const char        *header;         /* header block, LF line endings, without the empty line;
                                        "@file" reads tests/data/msg/file */
  const char *const *provider_hosts;
  int                trusted_hops;
  const char        *upstream_host;
  const char        *ip;
  SwSource           ip_source;
  const char        *helo;
  const char        *mail_from;
  SwSource           mail_from_source;
  int                boundary_index;
  const char        *boundary_by;
  gint64             boundary_time;
  const char        *reason;         /* a part of the reason */
} EnvelopeCase;

static const char *const mailbox_hosts[] = { "*.mailbox.example.net", "relay.backupmx.example", NULL };
static const char *const wrong_hosts[] = { "*.nowhere.example", NULL };

#define GMAIL_STACK \
  "Delivered-To: grace@gmail.com\n" \
  "Received: by 2002:a05:6a10:8c0d:b0:4a1:2b3c:4d5e with SMTP id hb13csp1234567pxb;\n" \
  "        Tue, 1 Aug 2023 03:04:06 -0700 (PDT)\n" \
  "X-Received: by 2002:a17:902:e5c1:b0:1bb:a4e5:1234 with SMTP id u1-20020a170902e5c1b0.7.1690884246;\n" \
  "        Tue, 01 Aug 2023 03:04:06 -0700 (PDT)\n" \
  "ARC-Seal: i=1; a=rsa-sha256; t=1690884246; cv=none; d=google.com; s=arc-20160816; b=abc\n" \
  "Return-Path: <bounce-42@shop.example>\n" \
  "Received: from mail.shop.example (mail.shop.example. [185.70.42.12])\n" \
  "        by mx.google.com with ESMTPS id d9443c01a7336-1bbf0b2e5a1si12345678plb.123.2023.08.01.03.04.05\n" \
  "        for <grace@gmail.com>\n" \
  "        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n" \
  "        Tue, 01 Aug 2023 03:04:05 -0700 (PDT)\n" \
  "Received-SPF: pass (google.com: domain of bounce-42@shop.example designates 185.70.42.12 as permitted sender) client-ip=185.70.42.12;\n" \
  "Received: from app1.shop.example (app1.shop.example [10.1.2.3])\n" \
  "        by mail.shop.example (Postfix) with ESMTP id 4RFxyz1ABCz9sQ; Tue, 1 Aug 2023 10:04:04 +0000 (UTC)\n" \
  "From: Shop <news@shop.example>\n"

#define M365_STACK \
  "Return-Path: bounce@shop.example\n" \
  "Received: from BN9PR03MB1234.namprd03.prod.outlook.com (2603:10b6:408:130::15) by\n" \
  " SA1PR03MB5678.namprd03.prod.outlook.com with HTTPS; Tue, 1 Aug 2023 10:04:07\n" \
  " +0000\n" \
  "Received: from BN9PR03CA0123.namprd03.prod.outlook.com (2603:10b6:408:130::8)\n" \
  " by BN9PR03MB1234.namprd03.prod.outlook.com (2603:10b6:408:13a::11) with\n" \
  " Microsoft SMTP Server (version=TLS1_2,\n" \
  " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6631.20; Tue, 1 Aug\n" \
  " 2023 10:04:06 +0000\n" \
  "Received: from BN8NAM12FT045.eop-nam12.prod.protection.outlook.com\n" \
  " (2603:10b6:408:e1:cafe::7d) by BN9PR03CA0123.outlook.office365.com\n" \
  " (2603:10b6:408:130::8) with Microsoft SMTP Server (version=TLS1_2,\n" \
  " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6631.20 via Frontend\n" \
  " Transport; Tue, 1 Aug 2023 10:04:06 +0000\n" \
  "Authentication-Results: spf=pass (sender IP is 185.70.42.12) smtp.mailfrom=shop.example; dkim=none; dmarc=none\n" \
  "Received-SPF: Pass (protection.outlook.com: domain of shop.example designates\n" \
  " 185.70.42.12 as permitted sender) receiver=protection.outlook.com;\n" \
  " client-ip=185.70.42.12; helo=mail.shop.example; pr=C\n" \
  "Received: from mail.shop.example (185.70.42.12) by\n" \
  " BN8NAM12FT045.mail.protection.outlook.com (10.13.182.213) with Microsoft SMTP\n" \
  " Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n" \
  " 15.20.6631.10 via Frontend Transport; Tue, 1 Aug 2023 10:04:05 +0000\n" \
  "From: Shop <news@shop.example>\n"

#define YAHOO_STACK \
  "Return-Path: <bounce@shop.example>\n" \
  "Received: from 185.70.42.12 (EHLO mail.shop.example)\n" \
  "  by 10.253.63.200 with SMTPs\n" \
  "  (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256);\n" \
  "  Tue, 01 Aug 2023 10:04:05 +0000\n" \
  "X-Originating-Ip: [185.70.42.12]\n" \
  "Received: from app1.shop.example (app1.shop.example [10.9.9.9])\n" \
  "  by mail.shop.example (Postfix) with ESMTP id 9F8E7D; Tue, 1 Aug 2023 10:04:04 +0000\n" \
  "From: Shop <news@shop.example>\n"

#define FASTMAIL_STACK \
  "Return-Path: <news@shop.example>\n" \
  "Received: from compute2.internal (compute2.nyi.internal [10.202.2.42])\n" \
  "\t by sloti41n07 (Cyrus 3.9.0-alpha0-594-gabcdef-fm-20230725.001-gabcdef12) with LMTPA;\n" \
  "\t Tue, 01 Aug 2023 06:04:06 -0400\n" \
  "X-Cyrus-Session-Id: sloti41n07-1690884246-1234567-2-1234567890123456789\n" \
  "Received: from mx6 ([10.202.2.205])\n" \
  "  by compute2.internal (LMTPProxy); Tue, 01 Aug 2023 06:04:06 -0400\n" \
  "Received: from mx6.messagingengine.com (localhost [127.0.0.1])\n" \
  "\tby mailmx.nyi.internal (Postfix) with ESMTP id 8F1E65C0123\n" \
  "\tfor <heidi@fastmail.com>; Tue,  1 Aug 2023 06:04:06 -0400 (EDT)\n" \
  "Received: from mx6.messagingengine.com (localhost [127.0.0.1])\n" \
  "    by mx6.messagingengine.com (Authentication Milter) with ESMTP\n" \
  "    id 6B3E1A2F4C5; Tue,  1 Aug 2023 06:04:06 -0400\n" \
  "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n" \
  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n" \
  "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n" \
  "\t(No client certificate requested)\n" \
  "\tby mx6.messagingengine.com (Postfix) with ESMTPS\n" \
  "\tfor <heidi@fastmail.com>; Tue,  1 Aug 2023 06:04:05 -0400 (EDT)\n" \
  "From: Shop <news@shop.example>\n"

#define POSTFIX_STACK_TAIL \
  "Delivered-To: bob@mailbox.example.net\n" \
  "Received: from mail.mailbox.example.net\n" \
  "\tby mail.mailbox.example.net with LMTP\n" \
  "\tid 8Lf2ABCDEmRzXgAA0J78UA\n" \
  "\t(envelope-from <news@shop.example>)\n" \
  "\tfor <bob@mailbox.example.net>; Tue, 01 Aug 2023 10:04:07 +0000\n" \
  "Received: from localhost (localhost [127.0.0.1])\n" \
  "\tby mail.mailbox.example.net (Postfix) with ESMTP id 4BC2D1A0045\n" \
  "\tfor <bob@mailbox.example.net>; Tue,  1 Aug 2023 10:04:06 +0000 (UTC)\n" \
  "X-Virus-Scanned: Debian amavisd-new at mail.mailbox.example.net\n" \
  "Received: from mail.mailbox.example.net ([127.0.0.1])\n" \
  "\tby localhost (mail.mailbox.example.net [127.0.0.1]) (amavisd-new, port 10024)\n" \
  "\twith ESMTP id AbCdEfGhIjKl for <bob@mailbox.example.net>;\n" \
  "\tTue,  1 Aug 2023 10:04:06 +0000 (UTC)\n" \
  "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n" \
  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n" \
  "\tby mail.mailbox.example.net (Postfix) with ESMTPS id 0F3C21A0042\n" \
  "\tfor <bob@mailbox.example.net>; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)\n" \
  "Received: by mail.shop.example (Postfix, from userid 1001)\n" \
  "\tid 6E4F71A0040; Tue,  1 Aug 2023 10:04:04 +0000 (UTC)\n" \
  "From: Shop <news@shop.example>\n"

#define T0 1690884245 /* Tue, 1 Aug 2023 10:04:05 +0000 */

static const EnvelopeCase cases[] = {
  { "gmail", GMAIL_STACK, NULL, 0, NULL, "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example", "bounce-42@shop.example",
    SW_SOURCE_RETURN_PATH, 1, "mx.google.com", T0, "first hop from outside google.com" },
  { "gmail-upstream", GMAIL_STACK, NULL, 0, "imap.gmail.com", "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example",
    "bounce-42@shop.example", SW_SOURCE_RETURN_PATH, 1, "mx.google.com", T0, "gmail.com and google.com" },
  { "m365", M365_STACK, NULL, 0, "outlook.office365.com", "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example",
    "bounce@shop.example", SW_SOURCE_RETURN_PATH, 3, "BN8NAM12FT045.mail.protection.outlook.com", T0, "after 3 internal hops" },
  { "m365-no-upstream", M365_STACK, NULL, 0, NULL, "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example", "bounce@shop.example",
    SW_SOURCE_RETURN_PATH, 3, "BN8NAM12FT045.mail.protection.outlook.com", T0, "outlook.com and office365.com" },
  { "yahoo", YAHOO_STACK, NULL, 0, "imap.mail.yahoo.com", "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example",
    "bounce@shop.example", SW_SOURCE_RETURN_PATH, 0, "10.253.63.200", T0, "outside yahoo.com" },
  { "yahoo-corpus-2006", "@good_dk_yahoo.eml", NULL, 0, "pop.messiah.edu", "66.163.178.99", SW_SOURCE_RECEIVED_AUTO,
    "web34101.mail.mud.yahoo.com", "jasona17055@yahoo.com", SW_SOURCE_RETURN_PATH, 1, "mx2.messiah.edu", 1160508628,
    "after 1 internal hop" },
  { "gmail-corpus-2006", "@good_dk_gmail.eml", NULL, 0, NULL, "66.249.92.174", SW_SOURCE_RECEIVED_AUTO, "ug-out-1314.google.com",
    "jasonalonzolong@gmail.com", SW_SOURCE_RETURN_PATH, 1, "mx2.messiah.edu", 1160508434, "outside messiah.edu" },
  { "fastmail", FASTMAIL_STACK, NULL, 0, "imap.fastmail.com", "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "mail.shop.example",
    "news@shop.example", SW_SOURCE_RETURN_PATH, 4, "mx6.messagingengine.com", T0, "after 4 internal hops" },
  { "postfix-amavis-dovecot", "Return-Path: <news@shop.example>\n" POSTFIX_STACK_TAIL, NULL, 0, NULL, "185.70.42.12",
    SW_SOURCE_RECEIVED_AUTO, "mail.shop.example", "news@shop.example", SW_SOURCE_RETURN_PATH, 3, "mail.mailbox.example.net", T0,
    "after 2 internal hops" },
  { "null-sender", "Return-Path: <>\n" POSTFIX_STACK_TAIL, NULL, 0, NULL, "185.70.42.12", SW_SOURCE_RECEIVED_AUTO,
    "mail.shop.example", "", SW_SOURCE_RETURN_PATH, 3, "mail.mailbox.example.net", T0, NULL },
  { "return-path-below-boundary-ignored", POSTFIX_STACK_TAIL "Return-Path: <ceo@bank.example>\n", NULL, 0, NULL, "185.70.42.12",
    SW_SOURCE_RECEIVED_AUTO, "mail.shop.example", NULL, SW_SOURCE_NONE, 3, "mail.mailbox.example.net", T0, NULL },
  { "exim-envelope-from",
    "Received: from mail.shop.example ([185.70.42.12]:51234 helo=smtp.shop.example)\n"
    "\tby mx.provider.example.com with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"
    "\t(Exim 4.96)\n\t(envelope-from <bounces+123@shop.example>)\n\tid 1qQq2r-0004Xy-2F\n"
    "\tfor dave@provider.example.com; Tue, 01 Aug 2023 10:04:05 +0000\n"
    "From: news@shop.example\n",
    NULL, 0, NULL, "185.70.42.12", SW_SOURCE_RECEIVED_AUTO, "smtp.shop.example", "bounces+123@shop.example",
    SW_SOURCE_RECEIVED_ENVFROM, 0, "mx.provider.example.com", T0, NULL },
  { "forged-below-boundary",
    "Return-Path: <ceo@bank.example>\n"
    "Received: from attacker.example (unknown [45.9.20.1])\n"
    "\tby mail.mailbox.example.net (Postfix) with ESMTP id 1A2B3C; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)\n"
    "Received: from mail.bank.example (mail.bank.example [193.0.6.139])\n"
    "\tby mx.bank.example (Postfix) with ESMTPS id 4D5E6F; Tue,  1 Aug 2023 10:04:00 +0000 (UTC)\n"
    "Received: from [10.0.0.1] (unknown [10.0.0.1])\n"
    "\tby mail.bank.example (Postfix) with ESMTP id 7A8B9C; Tue,  1 Aug 2023 10:03:59 +0000 (UTC)\n"
    "From: CEO <ceo@bank.example>\n",
    NULL, 0, NULL, "45.9.20.1", SW_SOURCE_RECEIVED_AUTO, "attacker.example", "ceo@bank.example", SW_SOURCE_RETURN_PATH, 0,
    "mail.mailbox.example.net", T0, "first hop from outside example.net" },
  { "forged-helo-claims-provider",
    "Received: from mx.mailbox.example.net (unknown [45.9.20.1])\n"
    "\tby mail.mailbox.example.net (Postfix) with ESMTP id 1A2B3C; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)\n"
    "Received: from mail.bank.example (mail.bank.example [193.0.6.139])\n"
    "\tby mail.mailbox.example.net (Postfix) with ESMTPS id 4D5E6F; Tue,  1 Aug 2023 10:04:00 +0000 (UTC)\n"
    "From: CEO <ceo@bank.example>\n",
    NULL, 0, NULL, "45.9.20.1", SW_SOURCE_RECEIVED_AUTO, "mx.mailbox.example.net", NULL, SW_SOURCE_NONE, 0,
    "mail.mailbox.example.net", T0, NULL },
  { "forged-rdns-may-be-forged",
    "Received: from bank.example (mx2.mailbox.example.net [45.9.20.1] (may be forged))\n"
    "\tby mail.mailbox.example.net (8.15.2/8.15.2) with ESMTP id 371A45xl012346; Tue, 1 Aug 2023 10:04:05 GMT\n"
    "Received: from mail.bank.example (mail.bank.example [193.0.6.139])\n"
    "\tby mx2.mailbox.example.net (Postfix) with ESMTPS id 4D5E6F; Tue,  1 Aug 2023 10:04:00 +0000 (UTC)\n",
    NULL, 0, NULL, "45.9.20.1", SW_SOURCE_RECEIVED_AUTO, "bank.example", NULL, SW_SOURCE_NONE, 0, "mail.mailbox.example.net", T0, NULL },
  { "hops-hint",
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby relay.backupmx.example (Postfix) with ESMTP id 1; Tue,  1 Aug 2023 10:04:05 +0000\n"
    "Received: from bad.example (bad.example [45.9.20.1])\n\tby mail.shop.example (Postfix) with ESMTP id 2; Tue,  1 Aug 2023 10:04:00 +0000\n",
    NULL, 2, NULL, "45.9.20.1", SW_SOURCE_RECEIVED_HOPS, "bad.example", NULL, SW_SOURCE_NONE, 1, "mail.shop.example", T0 - 5,
    "trusted hop count" },
  { "hops-hint-beyond",
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby mx.mailbox.example.net (Postfix) with ESMTP id 1; Tue,  1 Aug 2023 10:04:05 +0000\n",
    NULL, 3, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "trusts 3 Received fields but the message has 1" },
  { "hops-hint-private",
    "Received: from localhost (localhost [127.0.0.1])\n\tby mx.mailbox.example.net (Postfix) with ESMTP id 1; Tue,  1 Aug 2023 10:04:05 +0000\n"
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby mx.mailbox.example.net (Postfix) with ESMTP id 2; Tue,  1 Aug 2023 10:04:04 +0000\n",
    NULL, 1, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "private address 127.0.0.1" },
  { "hosts-hint-backup-mx",
    "Return-Path: <news@shop.example>\n"
    "Received: from relay.backupmx.example (relay.backupmx.example [91.198.174.2])\n\tby mx.mailbox.example.net (Postfix) with ESMTPS id 1; Tue,  1 Aug 2023 10:04:06 +0000\n"
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby relay.backupmx.example (Postfix) with ESMTPS id 2; Tue,  1 Aug 2023 10:04:05 +0000\n",
    mailbox_hosts, 0, NULL, "185.70.42.12", SW_SOURCE_RECEIVED_HOSTS, "mail.shop.example", "news@shop.example", SW_SOURCE_RETURN_PATH,
    1, "relay.backupmx.example", T0, "outside the account's provider hosts" },
  { "backup-mx-auto",
    "Return-Path: <news@shop.example>\n"
    "Received: from relay.backupmx.example (relay.backupmx.example [91.198.174.2])\n\tby mx.mailbox.example.net (Postfix) with ESMTPS id 1; Tue,  1 Aug 2023 10:04:06 +0000\n"
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby relay.backupmx.example (Postfix) with ESMTPS id 2; Tue,  1 Aug 2023 10:04:05 +0000\n",
    NULL, 0, NULL, "91.198.174.2", SW_SOURCE_RECEIVED_AUTO, "relay.backupmx.example", "news@shop.example", SW_SOURCE_RETURN_PATH, 0,
    "mx.mailbox.example.net", T0 + 1, NULL },
  { "hosts-hint-wrong-patterns",
    "Received: from mx1.mailbox.example.net (mx1.mailbox.example.net [91.198.174.3])\n\tby mx2.mailbox.example.net (Postfix) with ESMTPS id 1; Tue,  1 Aug 2023 10:04:06 +0000\n",
    wrong_hosts, 0, NULL, "91.198.174.3", SW_SOURCE_RECEIVED_HOSTS, "mx1.mailbox.example.net", NULL, SW_SOURCE_NONE, 0,
    "mx2.mailbox.example.net", T0 + 1, NULL },
  { "no-received", "From: a@example.com\nSubject: x\n", NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL,
    -1, "no Received field" },
  { "no-received-return-path", "Return-Path: <a@example.com>\nFrom: a@example.com\n", NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL,
    "a@example.com", SW_SOURCE_RETURN_PATH, -1, NULL, -1, "no Received field" },
  { "only-private-hops",
    "Received: from localhost (localhost [127.0.0.1])\n\tby mail.corp.example.com (Postfix) with ESMTP id 1; Tue,  1 Aug 2023 10:04:05 +0000\n"
    "Received: from ws12.corp.example.com (ws12.corp.example.com [192.168.10.12])\n\tby mail.corp.example.com (Postfix) with ESMTP id 2; Tue,  1 Aug 2023 10:04:04 +0000\n"
    "Received: from [IPv6:fd00::12] (unknown [IPv6:fd00::12])\n\tby ws12.corp.example.com (Postfix) with ESMTP id 3; Tue,  1 Aug 2023 10:04:03 +0000\n",
    NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "all 3 network hops are internal" },
  { "only-local-hops",
    "Received: by mail.example.org (Postfix, from userid 1000)\n\tid 6E4F71A0040; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)\n",
    NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "no Received field records a network hop" },
  { "authenticated-submission",
    "Received: from [192.168.1.20] (dsl-88-152-14-7.isp.example [88.152.14.7])\n\t(Authenticated sender: carol@mailbox.example.net)\n"
    "\tby smtp.mailbox.example.net (Postfix) with ESMTPSA id 9A1B2C3D4E; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)\n",
    NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "authenticated submission" },
  { "unreadable-top",
    "Received: garbage that no MTA writes\n"
    "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n\tby mx.mailbox.example.net (Postfix) with ESMTP id 2; Tue,  1 Aug 2023 10:04:04 +0000\n",
    NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "Received #1 could not be read" },
  { "ipv6-boundary",
    "Received: from mail-sor-f65.google.com (mail-sor-f65.google.com. [2607:f8b0:4864:20::a2e])\n"
    "\tby mx.mailbox.example.net (Postfix) with ESMTPS id 1; Tue,  1 Aug 2023 10:04:05 +0000\n",
    NULL, 0, NULL, "2607:f8b0:4864:20::a2e", SW_SOURCE_RECEIVED_AUTO, "mail-sor-f65.google.com", NULL, SW_SOURCE_NONE, 0,
    "mx.mailbox.example.net", T0, NULL },
  { "provider-to-provider",
    "Received: from mx1.mailbox.example.net (mx1.mailbox.example.net [91.198.174.3])\n\tby mx2.mailbox.example.net (Postfix) with ESMTPS id 1; Tue,  1 Aug 2023 10:04:06 +0000\n"
    "Received: from [192.168.1.20] (unknown [88.152.14.7])\n\tby mx1.mailbox.example.net (Postfix) with ESMTPSA id 2; Tue,  1 Aug 2023 10:04:05 +0000\n",
    NULL, 0, NULL, NULL, SW_SOURCE_NONE, NULL, NULL, SW_SOURCE_NONE, -1, NULL, -1, "authenticated submission" },
};

static GBytes *
load_header (const char *header)
{
  if (header[0] == '@')
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "msg", header + 1, NULL);
      g_autoptr (GError) error = NULL;
      char *contents = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &contents, &len, &error))
        g_error ("%s: %s", path, error->message);
      return g_bytes_new_take (contents, len);
    }
  g_autofree char *text = g_strdup_printf ("%s\nbody\n", header);
  return g_bytes_new (text, strlen (text));
}

static void
check_str (const char *name, const char *field, const char *got, const char *want)
{
  if (g_strcmp0 (got, want) != 0)
    g_error ("case %s: %s is \"%s\", expected \"%s\"", name, field, got ? got : "(null)", want ? want : "(null)");
}

static void
test_envelope_table (gconstpointer data)
{
  const EnvelopeCase *c = data;
  g_autoptr (GBytes) bytes = load_header (c->header);
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  SwEnvelopeHints hints = { c->provider_hosts, c->trusted_hops, c->upstream_host };
  g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, &hints);

  check_str (c->name, "ip", env->ip, c->ip);
  if (env->ip_source != c->ip_source)
    g_error ("case %s: ip source %s (%s)", c->name, sw_source_to_string (env->ip_source), env->reason);
  check_str (c->name, "helo", env->helo, c->helo);
  if (env->helo_source != (c->helo ? c->ip_source : SW_SOURCE_NONE))
    g_error ("case %s: helo source %s", c->name, sw_source_to_string (env->helo_source));
  check_str (c->name, "mail_from", env->mail_from, c->mail_from);
  if (env->mail_from_source != c->mail_from_source)
    g_error ("case %s: mail_from source %s", c->name, sw_source_to_string (env->mail_from_source));
  if (env->boundary_index != c->boundary_index)
    g_error ("case %s: boundary index %d (%s)", c->name, env->boundary_index, env->reason);
  check_str (c->name, "boundary_by", env->boundary_by, c->boundary_by);
  if (env->boundary_time != c->boundary_time)
    g_error ("case %s: boundary time %" G_GINT64_FORMAT, c->name, env->boundary_time);
  if (env->reason == NULL || (c->reason != NULL && strstr (env->reason, c->reason) == NULL))
    g_error ("case %s: reason \"%s\", expected to contain \"%s\"", c->name, env->reason, c->reason);
  if (env->ip != NULL && sw_ip_is_non_public (env->ip))
    g_error ("case %s: non-public IP %s", c->name, env->ip);
}

/* Without hints (NULL) the result is the automatic one. */
static void
test_envelope_null_hints (void)
{
  g_autoptr (GBytes) bytes = load_header (GMAIL_STACK);
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, NULL);
  g_assert_cmpstr (env->ip, ==, "185.70.42.12");
  g_assert_cmpint (env->ip_source, ==, SW_SOURCE_RECEIVED_AUTO);
}

/* The boundary is found among the first SW_MAX_RECEIVED_FIELDS Received fields only. */
static void
test_envelope_cap_received (void)
{
  for (guint extra = 0; extra <= 1; extra++)
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < SW_MAX_RECEIVED_FIELDS - 1 + extra; i++)
        g_string_append_printf (s, "Received: from relay%u.corp.example.com (relay%u.corp.example.com [10.0.%u.%u])\n"
                                   "\tby mx.corp.example.com (Postfix) with ESMTP id %u; Tue,  1 Aug 2023 10:04:05 +0000\n",
                                i, i, i / 250, i % 250 + 1, i);
      g_string_append (s, "Received: from mail.shop.example (mail.shop.example [185.70.42.12])\n"
                          "\tby mx.corp.example.com (Postfix) with ESMTP id x; Tue,  1 Aug 2023 10:04:04 +0000\n\nbody\n");
      g_autoptr (GBytes) bytes = g_bytes_new (s->str, s->len);
      g_autoptr (SwMessage) msg = sw_message_new (bytes);
      g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, NULL);
      if (extra == 0)
        {
          g_assert_cmpstr (env->ip, ==, "185.70.42.12");
          g_assert_cmpint (env->boundary_index, ==, (int) SW_MAX_RECEIVED_FIELDS - 1);
        }
      else
        {
          g_assert_null (env->ip);
          g_assert_nonnull (strstr (env->reason, "first 100 Received fields"));
        }
      g_string_free (s, TRUE);
    }
}

static void
test_envelope_registrable_domain (void)
{
  static const struct { const char *host; const char *domain; } cases[] = {
    { "mx.google.com", "google.com" },
    { "BN8NAM12FT045.mail.protection.outlook.com", "outlook.com" },
    { "mail.example.co.uk", "example.co.uk" },
    { "b\xc3\xbc""cher.example.de", "example.de" },
    { "co.uk", "co.uk" },
    { "localhost", "localhost" },
    { "10.1.2.3", NULL },
    { "[10.1.2.3]", NULL },
    { "not a host", NULL },
    { "[IPv6:2001:db8::1]", NULL },
    { "2001:DB8::1", NULL },
    { "deadbeef.cafe", "deadbeef.cafe" },
    { "", NULL },
  };
  /* round 0 asks, round 1 gets the thread's kept answers, round 2 asks again after more
   * names than are kept went through */
  for (guint round = 0; round < 3; round++)
    {
      if (round == 2)
        for (guint k = 0; k < 300; k++)
          {
            g_autofree char *host = g_strdup_printf ("h%u.example.org", k);
            g_autofree char *got = sw_envelope_registrable_domain (host);
            g_assert_cmpstr (got, ==, "example.org");
          }
      for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          g_autofree char *got = sw_envelope_registrable_domain (cases[i].host);
          if (g_strcmp0 (got, cases[i].domain) != 0)
            g_error ("round %u case %u (%s): %s", round, i, cases[i].host, got);
        }
    }
}

/* The reasons copy host names of printable ASCII within the cap as they are, without
 * calling sw_sanitize_for_log(): that is what it gives for them. A long by-host is cut
 * the way it cuts. */
static void
test_envelope_reason_text (void)
{
  for (gsize len = 0; len < 130; len++)
    for (int c = 0x20; c < 0x7f; c += 7)
      {
        g_autofree char *s = g_strnfill (len, (char)c);
        g_autofree char *clean = sw_sanitize_for_log (s, -1, 120);
        if (len <= 120 && g_strcmp0 (clean, s) != 0)
          g_error ("length %" G_GSIZE_FORMAT " octet 0x%02x: \"%s\"", len, (guint)c, clean);
      }
  g_autofree char *host = g_strnfill (150, 'h');
  g_autofree char *bad = g_strdup ("mx\x01.example");
  const char *const by[] = { host, bad };
  for (guint i = 0; i < G_N_ELEMENTS (by); i++)
    {
      g_autofree char *text = g_strdup_printf ("Received: from a.example ([8.8.8.8]) by %s; "
                                               "Tue, 1 Aug 2023 10:04:05 +0000\r\n\r\nx",
                                               by[i]);
      g_autoptr (GBytes) b = g_bytes_new (text, strlen (text));
      g_autoptr (SwMessage) msg = sw_message_new (b);
      g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, NULL);
      g_autofree char *want = sw_sanitize_for_log (by[i], -1, 120);
      if (strstr (env->reason, want) == NULL)
        g_error ("by %u: reason \"%s\" lacks \"%s\"", i, env->reason, want);
    }
}

void sw_test_envelope_register (void);

void
sw_test_envelope_register (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/msg/envelope/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_envelope_table);
    }
  g_test_add_func ("/core/msg/envelope/null-hints", test_envelope_null_hints);
  g_test_add_func ("/core/msg/envelope/cap/received-fields", test_envelope_cap_received);
  g_test_add_func ("/core/msg/envelope/registrable-domain", test_envelope_registrable_domain);
  g_test_add_func ("/core/msg/envelope/reason-text", test_envelope_reason_text);
}
