/* Received: parsing, one table row per real-looking header of each product. */
#include "sw-received.h"
#include "sw-util.h"

#include <gmime/gmime.h>

#include <string.h>

typedef struct {
  const char *name;
  const char *value;    /* unfolded value, as SwHeaderField.value holds it */
  gboolean    parsed;
  const char *helo;
  const char *rdns;
  const char *ip;
  const char *by;
  const char *with;
  const char *id;
  const char *envelope_from;
  const char *for_address;
  gint64      timestamp;
  gboolean    authenticated;
  gboolean    local;
  gboolean    rdns_recorded;
} ReceivedCase;

/* Unix times used below. */
#define T_2023_08_01_100405_UTC 1690884245   /* Tue, 1 Aug 2023 10:04:05 +0000 */

static const ReceivedCase cases[] = {
  /* Postfix */
  { "postfix/ipv4",
    "from mail-sor-f41.example.org (mail-sor-f41.example.org [209.85.220.41])\tby mx1.mailbox.example.net (Postfix) with ESMTPS id 4RFxyz1ABCz9sQ\tfor <alice@mailbox.example.net>; Tue, 1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "mail-sor-f41.example.org", "mail-sor-f41.example.org", "209.85.220.41", "mx1.mailbox.example.net",
    "ESMTPS", "4RFxyz1ABCz9sQ", NULL, "alice@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "postfix/unknown-rdns-ipv6",
    "from bulk.sender.example (unknown [IPv6:2a01:4f8:c17:6b1e::1])\tby mx.mailbox.example.net (Postfix) with ESMTP id 0F3C21A0042\tfor <bob@mailbox.example.net>; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "bulk.sender.example", NULL, "2a01:4f8:c17:6b1e::1", "mx.mailbox.example.net",
    "ESMTP", "0F3C21A0042", NULL, "bob@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "postfix/amavis-localhost",
    "from localhost (localhost [127.0.0.1])\tby mx.mailbox.example.net (Postfix) with ESMTP id 4BC2D1A0045\tfor <bob@mailbox.example.net>; Tue, 1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "localhost", "localhost", "127.0.0.1", "mx.mailbox.example.net",
    "ESMTP", "4BC2D1A0045", NULL, "bob@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "postfix/authenticated-submission",
    "from [192.168.1.20] (unknown [88.152.14.7])\t(Authenticated sender: carol@mailbox.example.net)\tby smtp.mailbox.example.net (Postfix) with ESMTPSA id 9A1B2C3D4E;\tTue, 1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "[192.168.1.20]", NULL, "88.152.14.7", "smtp.mailbox.example.net",
    "ESMTPSA", "9A1B2C3D4E", NULL, NULL, T_2023_08_01_100405_UTC, TRUE, FALSE, TRUE },
  { "postfix/pickup-local",
    "by mail.example.org (Postfix, from userid 1000)\tid 6E4F71A0040; Tue, 1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, NULL, NULL, NULL, "mail.example.org", NULL, "6E4F71A0040", NULL, NULL, T_2023_08_01_100405_UTC, FALSE, TRUE, FALSE },
  /* Exim */
  { "exim/rdns-with-helo",
    "from mail.shop.example ([185.70.42.12]:51234 helo=smtp.shop.example)\tby mx.provider.example.com with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\t(Exim 4.96)\t(envelope-from <bounces+123@shop.example>)\tid 1qQq2r-0004Xy-2F\tfor dave@provider.example.com; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "smtp.shop.example", "mail.shop.example", "185.70.42.12", "mx.provider.example.com",
    "esmtps", "1qQq2r-0004Xy-2F", "bounces+123@shop.example", "dave@provider.example.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "exim/no-rdns-ipv6",
    "from [2a00:1450:4864:20::42a] (port=43210 helo=relay.example.org)\tby mx.provider.example.com with esmtp (Exim 4.94.2)\t(envelope-from <>)\tid 1qQq2r-0004Xz-3G; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "relay.example.org", NULL, "2a00:1450:4864:20::42a", "mx.provider.example.com",
    "esmtp", "1qQq2r-0004Xz-3G", "", NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "exim/helo-equals-rdns",
    "from relay.example.org ([51.15.33.2])\tby mx.provider.example.com with esmtpsa (TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\t(Exim 4.96)\t(envelope-from <erin@example.org>)\tid 1qQq2s-0004Y0-1A; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "relay.example.org", NULL, "51.15.33.2", "mx.provider.example.com",
    "esmtpsa", "1qQq2s-0004Y0-1A", "erin@example.org", NULL, T_2023_08_01_100405_UTC, TRUE, FALSE, FALSE },
  { "exim/local",
    "from www-data by web1.example.org with local (Exim 4.96)\t(envelope-from <www-data@web1.example.org>)\tid 1qQq2t-0004Y1-00; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "www-data", NULL, NULL, "web1.example.org", "local", "1qQq2t-0004Y1-00", "www-data@web1.example.org", NULL,
    T_2023_08_01_100405_UTC, FALSE, TRUE, FALSE },
  { "exim/helo-says-authenticated",
    "from evil.example ([45.9.20.1] helo=authenticated)\tby mx.provider.example.com with esmtp (Exim 4.96)\tid 1qQq2u-0004Y2-00; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "authenticated", "evil.example", "45.9.20.1", "mx.provider.example.com", "esmtp", "1qQq2u-0004Y2-00", NULL, NULL,
    T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  /* Sendmail */
  { "sendmail/rdns",
    "from mail.partner.example (mail.partner.example [62.210.16.61])\tby mx.corp.example.com (8.15.2/8.15.2) with ESMTPS id 371A45xk012345\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\tfor <frank@corp.example.com>; Tue, 1 Aug 2023 10:04:05 GMT",
    TRUE, "mail.partner.example", "mail.partner.example", "62.210.16.61", "mx.corp.example.com",
    "ESMTPS", "371A45xk012345", NULL, "frank@corp.example.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "sendmail/may-be-forged-ident",
    "from bank-secure.example (root@mx.cheap-vps.example [93.184.216.34] (may be forged))\tby mx.corp.example.com (8.15.2/8.15.2) with SMTP id 371A45xl012346\tfor <frank@corp.example.com>; Tue, 1 Aug 2023 10:04:05 GMT",
    TRUE, "bank-secure.example", NULL, "93.184.216.34", "mx.corp.example.com",
    "SMTP", "371A45xl012346", NULL, "frank@corp.example.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "sendmail/submit-local",
    "(from root@localhost)\tby host1.corp.example.com (8.15.2/8.15.2/Submit) id 371A45xm012347;\tTue, 1 Aug 2023 10:04:05 GMT",
    TRUE, NULL, NULL, NULL, "host1.corp.example.com", NULL, "371A45xm012347", NULL, NULL, T_2023_08_01_100405_UTC, FALSE, TRUE, FALSE },
  { "sendmail/authenticated-bits",
    "from laptop.example.org (dsl-77-1-2-3.isp.example [77.1.2.3])\t(authenticated bits=0)\tby smtp.corp.example.com (8.15.2/8.15.2) with ESMTP id 371A45xn012348; Tue, 1 Aug 2023 10:04:05 GMT",
    TRUE, "laptop.example.org", "dsl-77-1-2-3.isp.example", "77.1.2.3", "smtp.corp.example.com",
    "ESMTP", "371A45xn012348", NULL, NULL, T_2023_08_01_100405_UTC, TRUE, FALSE, TRUE },
  /* qmail */
  { "qmail/invoked-by-uid",
    "(qmail 29991 invoked by uid 60001); 10 Oct 2006 19:30:27 -0000",
    TRUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1160508627, FALSE, TRUE, FALSE },
  { "qmail/network-helo",
    "from unknown (HELO mail.sender.example) (91.198.174.192)  by mx.qmailhost.example with SMTP; 10 Oct 2006 19:30:27 -0000",
    TRUE, "mail.sender.example", NULL, "91.198.174.192", "mx.qmailhost.example", "SMTP", NULL, NULL, NULL, 1160508627, FALSE, FALSE, TRUE },
  { "qmail/rdns-no-helo",
    "from mail.sender.example (91.198.174.193)  by mx.qmailhost.example with SMTP; 10 Oct 2006 19:30:27 -0000",
    TRUE, "mail.sender.example", NULL, "91.198.174.193", "mx.qmailhost.example", "SMTP", NULL, NULL, NULL, 1160508627, FALSE, FALSE, FALSE },
  { "qmail/invoked-from-network",
    "(qmail 1234 invoked from network); 10 Oct 2006 19:30:27 -0000",
    TRUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1160508627, FALSE, TRUE, FALSE },
  { "qmail/ident-empty-helo",
    "from mx10.sender.example (HELO ) (owner50@91.198.174.194)  by mx.qmailhost.example with SMTP; 10 Oct 2006 19:30:27 -0000",
    TRUE, NULL, "mx10.sender.example", "91.198.174.194", "mx.qmailhost.example", "SMTP", NULL, NULL, NULL, 1160508627, FALSE,
    FALSE, TRUE },
  { "qmail-ldap/envelope-sender",
    "from unknown (HELO terpsichore.sender.example) (jdavid@[216.254.40.70])  (envelope-sender <jdavid@sender.example>)  by mail13.qmailhost.example (qmail-ldap-1.03) with SMTP  for <erin@qmailhost.example>; 10 Oct 2006 19:30:27 -0000",
    TRUE, "terpsichore.sender.example", NULL, "216.254.40.70", "mail13.qmailhost.example", "SMTP", NULL, "jdavid@sender.example",
    "erin@qmailhost.example", 1160508627, FALSE, FALSE, TRUE },
  { "courier/softdnserr",
    "from sender.example (softdnserr [::ffff:61.99.99.67])  by mail.courierhost.example with esmtp; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "sender.example", NULL, "61.99.99.67", "mail.courierhost.example", "esmtp", NULL, NULL, NULL, T_2023_08_01_100405_UTC,
    FALSE, FALSE, TRUE },
  /* Microsoft Exchange on-premises */
  { "exchange/internal",
    "from EX01.corp.example.local (10.20.1.15) by EX02.corp.example.local (10.20.1.16) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.27; Tue, 1 Aug 2023 12:04:05 +0200",
    TRUE, "EX01.corp.example.local", NULL, "10.20.1.15", "EX02.corp.example.local", "Microsoft SMTP Server", "15.1.2507.27",
    NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "exchange/edge-inbound",
    "from mail.partner.example (62.210.16.62) by EDGE01.corp.example.com (172.16.5.4) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.1.2507.27; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "mail.partner.example", NULL, "62.210.16.62", "EDGE01.corp.example.com", "Microsoft SMTP Server", "15.1.2507.27",
    NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "exchange/mapi-no-tls",
    "from EX02.corp.example.local (10.20.1.16) by EX01.corp.example.local (10.20.1.15) with Microsoft SMTP Server id 15.1.2507.27 via Frontend Transport; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "EX02.corp.example.local", NULL, "10.20.1.16", "EX01.corp.example.local", "Microsoft SMTP Server", "15.1.2507.27",
    NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  /* Microsoft 365 */
  { "m365/inbound-frontend",
    "from mail-oi1-f170.google.com (209.85.167.170) by BN8NAM12FT045.mail.protection.outlook.com (10.13.182.213) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6631.10 via Frontend Transport; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "mail-oi1-f170.google.com", NULL, "209.85.167.170", "BN8NAM12FT045.mail.protection.outlook.com", "Microsoft SMTP Server",
    "15.20.6631.10", NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "m365/internal-ipv6",
    "from BN8NAM12FT045.eop-nam12.prod.protection.outlook.com (2603:10b6:408:e1:cafe::7d) by BN9PR03CA0123.outlook.office365.com (2603:10b6:408:130::8) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6631.20 via Frontend Transport; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "BN8NAM12FT045.eop-nam12.prod.protection.outlook.com", NULL, "2603:10b6:408:e1:cafe::7d", "BN9PR03CA0123.outlook.office365.com",
    "Microsoft SMTP Server", "15.20.6631.20", NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "m365/with-rdns",
    "from EUR05-VI1-obe.outbound.protection.outlook.com (mail-vi1eur05on2090.outbound.protection.outlook.com [40.107.21.90]) by mx.mailbox.example.net (Postfix) with ESMTPS id 4RFy0k2M3sz9sR for <alice@mailbox.example.net>; Tue, 1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "EUR05-VI1-obe.outbound.protection.outlook.com", "mail-vi1eur05on2090.outbound.protection.outlook.com", "40.107.21.90",
    "mx.mailbox.example.net", "ESMTPS", "4RFy0k2M3sz9sR", NULL, "alice@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  /* Gmail */
  { "gmail/inbound",
    "from mail.shop.example (mail.shop.example. [185.70.42.12])        by mx.google.com with ESMTPS id d9443c01a7336-1bbf0b2e5a1si12345678plb.123.2023.08.01.03.04.05        for <grace@gmail.com>        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);        Tue, 01 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, "mail.shop.example", "mail.shop.example", "185.70.42.12", "mx.google.com", "ESMTPS",
    "d9443c01a7336-1bbf0b2e5a1si12345678plb.123.2023.08.01.03.04.05", NULL, "grace@gmail.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "gmail/internal-by-ipv6",
    "by 2002:a05:6a10:8c0d:b0:4a1:2b3c:4d5e with SMTP id hb13csp1234567pxb;        Tue, 1 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, NULL, NULL, NULL, "2002:a05:6a10:8c0d:b0:4a1:2b3c:4d5e", "SMTP", "hb13csp1234567pxb", NULL, NULL, T_2023_08_01_100405_UTC,
    FALSE, FALSE, FALSE },
  { "gmail/sor-ipv6",
    "from mail-sor-f65.google.com (mail-sor-f65.google.com. [2607:f8b0:4864:20::a2e])        by mx.google.com with SMTPS id a1sor123456qkb.12.2023.08.01.03.04.05        for <grace@gmail.com>        (Google Transport Security);        Tue, 01 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, "mail-sor-f65.google.com", "mail-sor-f65.google.com", "2607:f8b0:4864:20::a2e", "mx.google.com", "SMTPS",
    "a1sor123456qkb.12.2023.08.01.03.04.05", NULL, "grace@gmail.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  /* Yahoo */
  { "yahoo/inbound-ehlo",
    "from 209.85.221.52 (EHLO mail-wr1-f52.google.com)  by 10.253.63.200 with SMTPs  (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256);  Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "mail-wr1-f52.google.com", NULL, "209.85.221.52", "10.253.63.200", "SMTPs", NULL, NULL, NULL, T_2023_08_01_100405_UTC,
    FALSE, FALSE, FALSE },
  { "yahoo/web-http",
    "from [153.42.34.240] by web34101.mail.mud.yahoo.com via HTTP; Tue, 10 Oct 2006 12:30:27 PDT",
    TRUE, "[153.42.34.240]", NULL, "153.42.34.240", "web34101.mail.mud.yahoo.com", NULL, NULL, NULL, NULL, 1160508627,
    FALSE, FALSE, FALSE },
  { "yahoo/hermes-esmtpa",
    "by kubenode552.mail-prod1.omega.gq1.yahoo.com (VZM Hermes SMTP Server) with ESMTPA ID 0123456789abcdef0123456789abcdef;          Tue, 01 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, NULL, NULL, NULL, "kubenode552.mail-prod1.omega.gq1.yahoo.com", "ESMTPA", "0123456789abcdef0123456789abcdef", NULL, NULL,
    T_2023_08_01_100405_UTC, TRUE, FALSE, FALSE },
  /* Fastmail */
  { "fastmail/mx",
    "from mx6.messagingengine.com (mx6.messagingengine.com [66.111.4.26])\t by mailmx.nyi.internal (Cyrus 3.9.0-alpha0-123-gabcdef-fm-20230725.001-gabcdef12) with LMTPA;\t Tue, 01 Aug 2023 06:04:05 -0400",
    TRUE, "mx6.messagingengine.com", "mx6.messagingengine.com", "66.111.4.26", "mailmx.nyi.internal", "LMTPA", NULL, NULL, NULL,
    T_2023_08_01_100405_UTC, TRUE, FALSE, TRUE },
  { "fastmail/inbound",
    "from mail.shop.example (mail.shop.example [185.70.42.12])\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\t(No client certificate requested)\tby mx6.messagingengine.com (Postfix) with ESMTPS\tfor <heidi@fastmail.com>; Tue,  1 Aug 2023 06:04:05 -0400 (EDT)",
    TRUE, "mail.shop.example", "mail.shop.example", "185.70.42.12", "mx6.messagingengine.com", "ESMTPS", NULL, NULL,
    "heidi@fastmail.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "fastmail/internal-compute",
    "from compute1.internal (compute1.nyi.internal [10.202.2.41])\tby mailout.nyi.internal (Postfix) with ESMTP id 8F1E65C0123\tfor <ivan@example.org>; Tue,  1 Aug 2023 06:04:05 -0400 (EDT)",
    TRUE, "compute1.internal", "compute1.nyi.internal", "10.202.2.41", "mailout.nyi.internal", "ESMTP", "8F1E65C0123", NULL,
    "ivan@example.org", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  /* Apple iCloud */
  { "icloud/inbound",
    "from mail.shop.example (mail.shop.example [185.70.42.12]) by mx01.mail.icloud.com (Postfix) with ESMTPS id 5B2C71800123 for <judy@icloud.com>; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "mail.shop.example", "mail.shop.example", "185.70.42.12", "mx01.mail.icloud.com", "ESMTPS", "5B2C71800123", NULL,
    "judy@icloud.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "icloud/internal",
    "from mx01.mail.icloud.com (mx01.mail.icloud.com [17.57.155.10]) by p00-icloudmta-asmtp-us-west-1a-10-percent-1.p00-icloudmta-asmtp-vip.icloud-mail-production.svc.kube.us-west-1a.k8s.cloud.apple.com (Postfix) with ESMTPS id 7D3E4A800456 for <judy@icloud.com>; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "mx01.mail.icloud.com", "mx01.mail.icloud.com", "17.57.155.10",
    "p00-icloudmta-asmtp-us-west-1a-10-percent-1.p00-icloudmta-asmtp-vip.icloud-mail-production.svc.kube.us-west-1a.k8s.cloud.apple.com",
    "ESMTPS", "7D3E4A800456", NULL, "judy@icloud.com", T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "icloud/submission",
    "from smtpclient.apple (unknown [17.11.5.22]) by ms11p00im-qufo17281601.me.com (Postfix) with ESMTPSA id 3E1F2B40024A for <kim@example.org>; Tue,  1 Aug 2023 10:04:05 +0000 (UTC)",
    TRUE, "smtpclient.apple", NULL, "17.11.5.22", "ms11p00im-qufo17281601.me.com", "ESMTPSA", "3E1F2B40024A", NULL, "kim@example.org",
    T_2023_08_01_100405_UTC, TRUE, FALSE, TRUE },
  /* Zoho */
  { "zoho/inbound",
    "from mail.shop.example (mail.shop.example [185.70.42.12]) by mx.zohomail.com\twith SMTPS id 1690884245123456.789; Tue, 1 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, "mail.shop.example", "mail.shop.example", "185.70.42.12", "mx.zohomail.com", "SMTPS", "1690884245123456.789", NULL, NULL,
    T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "zoho/helo-literal-client",
    "from [10.0.0.3] (host-82-12-3-4.isp.example [82.12.3.4]) by mx.zoho.com\twith SMTPS id 1690884245123457.790; Tue, 1 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, "[10.0.0.3]", "host-82-12-3-4.isp.example", "82.12.3.4", "mx.zoho.com", "SMTPS", "1690884245123457.790", NULL, NULL,
    T_2023_08_01_100405_UTC, FALSE, FALSE, TRUE },
  { "zoho/no-from",
    "by mx.zohomail.com with SMTP id 1690884245123458.791; Tue, 1 Aug 2023 03:04:05 -0700 (PDT)",
    TRUE, NULL, NULL, NULL, "mx.zohomail.com", "SMTP", "1690884245123458.791", NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  /* Dovecot LMTP */
  { "dovecot/lmtp-no-ip",
    "from mail.mailbox.example.net\tby mail.mailbox.example.net with LMTP\tid 8Lf2ABCDEmRzXgAA0J78UA\t(envelope-from <news@shop.example>)\tfor <bob@mailbox.example.net>; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "mail.mailbox.example.net", NULL, NULL, "mail.mailbox.example.net", "LMTP", "8Lf2ABCDEmRzXgAA0J78UA", "news@shop.example",
    "bob@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "dovecot/lmtp-loopback",
    "from mx.mailbox.example.net ([127.0.0.1])\tby imap.mailbox.example.net with LMTPS\tid 0GmLKRXryGTVEQAAqz6ojQ\t(envelope-from <>)\tfor <bob@mailbox.example.net>; Tue, 01 Aug 2023 12:04:05 +0200",
    TRUE, "mx.mailbox.example.net", NULL, "127.0.0.1", "imap.mailbox.example.net", "LMTPS", "0GmLKRXryGTVEQAAqz6ojQ", "",
    "bob@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "dovecot/lmtp-ipv6-loopback",
    "from localhost ([::1])\tby imap.mailbox.example.net with LMTP\tid 2AbCdEfGhIjKlMnOpQrStU\t(envelope-from <alerts@example.org>)\tfor <bob@mailbox.example.net>; Tue, 01 Aug 2023 10:04:05 +0000",
    TRUE, "localhost", NULL, "::1", "imap.mailbox.example.net", "LMTP", "2AbCdEfGhIjKlMnOpQrStU", "alerts@example.org",
    "bob@mailbox.example.net", T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "dovecot/lhlo",
    "from mail-backend.mailbox.example.net (LHLO mail-backend.mailbox.example.net) (10.2.2.20)  by mail-backend.mailbox.example.net with LMTP; Thu, 18 Jun 2015 16:50:56 -0700 (PDT)",
    TRUE, "mail-backend.mailbox.example.net", "mail-backend.mailbox.example.net", "10.2.2.20", "mail-backend.mailbox.example.net",
    "LMTP", NULL, NULL, NULL, 1434671456, FALSE, FALSE, TRUE },
  /* Malformed */
  { "malformed/empty", "", FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1, FALSE, FALSE, FALSE },
  { "malformed/garbage", "this is not a received header at all", FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1,
    FALSE, FALSE, FALSE },
  { "malformed/bad-date", "from a.example (a.example [8.8.4.4]) by b.example; not a date",
    TRUE, "a.example", "a.example", "8.8.4.4", "b.example", NULL, NULL, NULL, NULL, -1, FALSE, FALSE, TRUE },
  { "malformed/unclosed-comment", "from a.example (a.example [8.8.4.4 by b.example; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "a.example", NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1, FALSE, FALSE, FALSE },
  { "malformed/bad-literal", "from a.example (a.example [999.1.2.3]) by b.example; Tue, 1 Aug 2023 10:04:05 +0000",
    TRUE, "a.example", NULL, NULL, "b.example", NULL, NULL, NULL, NULL, T_2023_08_01_100405_UTC, FALSE, FALSE, FALSE },
  { "malformed/only-semicolons", ";;;;", FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1, FALSE, FALSE, FALSE },
  /* A word right after a keyword is that clause's value, even when it is a keyword. */
  { "malformed/keywords-only", "from by with id for via", TRUE, "by", NULL, NULL, NULL, "id", NULL, NULL, "via", -1, FALSE, FALSE, FALSE },
};

static void
check_str (const char *name, const char *field, const char *got, const char *want)
{
  if (g_strcmp0 (got, want) != 0)
    g_error ("case %s: %s is \"%s\", expected \"%s\"", name, field, got ? got : "(null)", want ? want : "(null)");
}

static void
check_bool (const char *name, const char *field, gboolean got, gboolean want)
{
  if (!got != !want)
    g_error ("case %s: %s is %d, expected %d", name, field, got, want);
}

static void
test_received_table (gconstpointer data)
{
  const ReceivedCase *c = data;
  g_autoptr (SwReceived) r = sw_received_parse (c->value);
  g_assert_nonnull (r);
  check_bool (c->name, "parsed", r->parsed, c->parsed);
  check_str (c->name, "from_helo", r->from_helo, c->helo);
  check_str (c->name, "from_rdns", r->from_rdns, c->rdns);
  check_str (c->name, "from_ip", r->from_ip, c->ip);
  check_str (c->name, "by_host", r->by_host, c->by);
  check_str (c->name, "with_protocol", r->with_protocol, c->with);
  check_str (c->name, "id", r->id, c->id);
  check_str (c->name, "envelope_from", r->envelope_from, c->envelope_from);
  check_str (c->name, "for_address", r->for_address, c->for_address);
  if (r->timestamp != c->timestamp)
    g_error ("case %s: timestamp is %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, c->name, r->timestamp, c->timestamp);
  check_bool (c->name, "authenticated", r->authenticated, c->authenticated);
  check_bool (c->name, "local", r->local, c->local);
  check_bool (c->name, "rdns_recorded", r->rdns_recorded, c->rdns_recorded);
}

static void
test_received_null (void)
{
  g_autoptr (SwReceived) r = sw_received_parse (NULL);
  g_assert_false (r->parsed);
  g_assert_cmpint (r->timestamp, ==, -1);
}

/* Reverse names and by-hosts are lower-cased as g_utf8_strdown() does, ASCII or not. */
static void
test_received_host_case (void)
{
  static const char *const hosts[] = { "MX.Example.COM", "mail-SOR-f41.example.org.", "IMAP.INBOX.example",
                                       "B\xc3\x9cRO.example.de", "x\xffY.example", "a.b" };
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *value = g_strdup_printf ("from h.example (%s [8.8.8.8]) by %s; Tue, 1 Aug 2023 10:04:05 +0000",
                                                hosts[i], hosts[i]);
      g_autoptr (SwReceived) r = sw_received_parse (value);
      gsize len = strlen (hosts[i]);
      while (len > 0 && hosts[i][len - 1] == '.')
        len--;
      g_autofree char *valid = g_utf8_make_valid (hosts[i], (gssize)len);
      g_autofree char *want = g_utf8_strdown (valid, -1);
      if (g_strcmp0 (r->from_rdns, want) != 0)
        g_error ("host %u: rdns \"%s\", expected \"%s\"", i, r->from_rdns, want);
    }
}

/* The client address of a "[...]" literal is what sw_ip_normalize() makes of it. */
static void
test_received_bracket_ip (void)
{
  static const char *const inside[] = { "1.2.3.4", "01.2.3.4", "1.2.3.256", "1.2.3", "0.0.0.0", "255.255.255.255",
                                        "1.2.3.4.5", "IPv6:::ffff:1.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.04",
                                        "1000.2.3.4", "1..3.4", "2001:db8::1", "8.8.8.8x", "" };
  for (guint i = 0; i < G_N_ELEMENTS (inside); i++)
    {
      g_autofree char *value = g_strdup_printf ("from h.example (rdns.example [%s]) by mx.example; x", inside[i]);
      g_autoptr (SwReceived) r = sw_received_parse (value);
      g_autofree char *want = sw_ip_normalize (inside[i]);
      if (g_strcmp0 (r->from_ip, want) != 0)
        g_error ("[%s]: from_ip \"%s\", expected \"%s\"", inside[i], r->from_ip, want);
    }
}

/* Strings from a Received field are valid UTF-8 and bounded, whatever the input. */
static void
test_received_hostile (void)
{
  g_autofree char *huge = g_strnfill (200000, 'a');
  g_autofree char *v1 = g_strdup_printf ("from %s (x.example [1.2.3.4]) by %s; Tue, 1 Aug 2023 10:04:05 +0000", huge, huge);
  g_autoptr (SwReceived) r1 = sw_received_parse (v1);
  g_assert_true (r1->parsed);
  g_assert_cmpuint (strlen (r1->from_helo), <=, 1024);
  g_assert_cmpuint (strlen (r1->by_host), <=, 1024);
  g_assert_cmpstr (r1->from_ip, ==, "1.2.3.4");
  g_assert_cmpstr (r1->from_rdns, ==, "x.example");
  g_assert_cmpint (r1->timestamp, ==, 1690884245);

  /* A comment too long to keep loses its contents, never the bounds. */
  g_autofree char *v4 = g_strdup_printf ("from h.example (%s [1.2.3.4]) by mx.example; x", huge);
  g_autoptr (SwReceived) r4 = sw_received_parse (v4);
  g_assert_cmpstr (r4->from_helo, ==, "h.example");
  g_assert_cmpstr (r4->by_host, ==, "mx.example");

  g_autoptr (SwReceived) r2 = sw_received_parse ("from \xff\xfe.example (\xc3\x41 [8.8.8.8]) by mx\x80.example; x");
  g_assert_nonnull (r2->from_helo);
  g_assert_nonnull (r2->by_host);
  g_assert_true (g_utf8_validate (r2->from_helo, -1, NULL));
  g_assert_true (g_utf8_validate (r2->by_host, -1, NULL));
  g_assert_cmpstr (r2->from_ip, ==, "8.8.8.8");

  /* Deeply nested comments. */
  g_autofree char *open = g_strnfill (100000, '(');
  g_autofree char *v3 = g_strdup_printf ("from x %s by y; z", open);
  g_autoptr (SwReceived) r3 = sw_received_parse (v3);
  g_assert_cmpstr (r3->from_helo, ==, "x");
  g_assert_null (r3->by_host);
}

/* The date of a field is what GMime's g_mime_utils_header_decode_date() makes of the
 * text after the last ';', for generated dates in the usual form and near it: every
 * component in and out of range, day names right and wrong, offsets, comments, other
 * spellings. */
static void
test_received_dates (void)
{
  static const char *const day_names[] = { "Mon, ", "Tue, ", "Sun, ", "", "Xyz, ", "Mon,", "mon, " };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                        "Aug", "Sep", "Oct", "Nov", "Dec", "jan", "Foo" };
  static const char *const tails[] = { "", " (UTC)", " (CET", " x", " (a) (b)", "  " };
  g_mime_init ();
  GRand *rand = g_rand_new_with_seed (20261206);
  for (guint round = 0; round < 20000; round++)
    {
      guint day = g_rand_int_range (rand, 0, 33), year = g_rand_int_range (rand, 1960, 2110);
      guint hour = g_rand_int_range (rand, 0, 26), min = g_rand_int_range (rand, 0, 62);
      guint sec = g_rand_int_range (rand, 0, 62), tz_h = g_rand_int_range (rand, 0, 26);
      guint tz_m = g_rand_int_range (rand, 0, 62);
      if (round % 2 == 0)
        {
          /* mostly valid: the fast form */
          day = 1 + day % 28, hour %= 24, min %= 60, sec %= 60, tz_h %= 15, tz_m = (tz_m % 4) * 15;
          year = 1970 + year % 140;
        }
      if (round % 7 == 0)
        day = 29 + round % 3; /* month ends, leap years */
      g_autofree char *date = g_strdup_printf (
          "%s%s%u %s %04u %02u:%02u:%02u %c%02u%02u%s", day_names[g_rand_int_range (rand, 0, G_N_ELEMENTS (day_names))],
          round % 5 == 0 && day < 10 ? "0" : "", day,
          months[round % 2 == 0 ? g_rand_int_range (rand, 0, 12) : g_rand_int_range (rand, 0, G_N_ELEMENTS (months))],
          year, hour, min, sec, g_rand_boolean (rand) ? '+' : '-', tz_h, tz_m,
          round % 3 == 0 ? tails[g_rand_int_range (rand, 0, G_N_ELEMENTS (tails))] : "");
      g_autoptr (GDateTime) dt = g_mime_utils_header_decode_date (date);
      gint64 want = dt != NULL ? g_date_time_to_unix (dt) : -1;
      g_autofree char *value = g_strdup_printf ("from a.example ([1.2.3.4]) by b.example; %s", date);
      g_autoptr (SwReceived) r = sw_received_parse (value);
      if (r->timestamp != want)
        g_error ("round %u: \"%s\" gave %" G_GINT64_FORMAT ", GMime %" G_GINT64_FORMAT, round, date, r->timestamp,
                 want);
    }
  g_rand_free (rand);
}

void sw_test_received_register (void);

void
sw_test_received_register (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/msg/received/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_received_table);
    }
  g_test_add_func ("/core/msg/received/null", test_received_null);
  g_test_add_func ("/core/msg/received/hostile", test_received_hostile);
  g_test_add_func ("/core/msg/received/dates", test_received_dates);
  g_test_add_func ("/core/msg/received/host-case", test_received_host_case);
  g_test_add_func ("/core/msg/received/bracket-ip", test_received_bracket_ip);
}
