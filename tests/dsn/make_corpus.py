#!/usr/bin/python3
# Regenerates tests/dsn/corpus (run by hand; the files are checked in).
# Writes tests/dsn/corpus: sample bounces composed for these tests.
import os
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(D, exist_ok=True)
files = {}
exp = []
VERP = "bounce+a2b4c6d8e0f2g4h6i8j0k2l4m6n8o0p2q4r6s8t@bounces.example.com"

def add(name, text, kind, cat, reason, addr, status, crlf=False):
    text = text.lstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    files[name] = text
    exp.append("\t".join([name, kind, cat, reason, addr, status]))

ORIG_HDRS = f"""Return-Path: <{VERP}>
Received: from mta1.sender.example.com (mta1.sender.example.com [198.51.100.10])
	by mx.example.net with ESMTPS id 4Q8XyZ; Sun, 22 Nov 2026 10:00:01 +0000
From: News <news@sender.example.com>
To: {{rcpt}}
Subject: November offers
Date: Sun, 22 Nov 2026 10:00:00 +0000
Message-ID: <c41.7f3a@sender.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
"""

def postfix_dsn(name, rcpts, subject="Undelivered Mail Returned to Sender", ret_full=False, kind="dsn", cat="hard", reason="no_such_user", crlf=False):
    human = "".join(f"<{a}>: host mx.example.net[192.0.2.25] said: {d} (in reply to RCPT TO command)\n\n" for a, s, d, act in rcpts)
    ds = "".join(f"""
Final-Recipient: rfc822; {a}
Original-Recipient: rfc822;{a}
Action: {act}
Status: {s}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; {d}
""" for a, s, d, act in rcpts)
    third = ("Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n" + ORIG_HDRS.format(rcpt=rcpts[0][0]) + "\nHello.\n") if ret_full else \
            ("Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n" + ORIG_HDRS.format(rcpt=rcpts[0][0]))
    text = f"""
Return-Path: <>
Delivered-To: {VERP}
Received: by mx.sender.example.com (Postfix) id 3F2A1C0123; Sun, 22 Nov 2026 10:00:05 +0000 (UTC)
Date: Sun, 22 Nov 2026 10:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.sender.example.com (Mail Delivery System)
Subject: {subject}
To: {VERP}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F2A1C0123.1732269605/mx.sender.example.com"
Message-Id: <20261122100005.3F2A1C0123@mx.sender.example.com>

This is a MIME-encapsulated message.

--3F2A1C0123.1732269605/mx.sender.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

{human}
--3F2A1C0123.1732269605/mx.sender.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example.com
X-Postfix-Queue-ID: 3F2A1C0123
X-Postfix-Sender: rfc822; {VERP}
Arrival-Date: Sun, 22 Nov 2026 10:00:01 +0000 (UTC)
{ds}
--3F2A1C0123.1732269605/mx.sender.example.com
{third}
--3F2A1C0123.1732269605/mx.sender.example.com--
"""
    add(name, text, kind, cat, reason, rcpts[0][0], rcpts[0][1], crlf)

postfix_dsn("postfix_dsn_user_unknown.eml", [("alice@example.net", "5.1.1", "550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown in local recipient table", "failed")])
postfix_dsn("postfix_dsn_two_recipients.eml", [
    ("carol@example.net", "5.2.2", "552 5.2.2 <carol@example.net>: Mailbox full", "failed"),
    ("dave@example.net", "5.1.1", "550 5.1.1 <dave@example.net>: Recipient address rejected: User unknown", "failed")],
    cat="hard", reason="no_such_user", ret_full=True, crlf=True)
postfix_dsn("postfix_dsn_bad_domain.eml", [("erin@nonexistent.example", "5.4.4", "Host or domain name not found. Name service error for name=nonexistent.example type=A: Host not found", "failed")], reason="bad_domain")
postfix_dsn("postfix_dsn_delayed.eml", [("frank@example.net", "4.4.1", "connect to mx.example.net[192.0.2.25]:25: Connection timed out", "delayed")],
    subject="Delayed Mail (still being retried)", cat="soft", reason="routing")
postfix_dsn("postfix_dsn_expired.eml", [("grace@example.net", "4.4.7", "delivery temporarily suspended: connect to mx.example.net[192.0.2.25]:25: Connection timed out", "failed")],
    cat="soft", reason="expired")
postfix_dsn("postfix_dsn_disabled.eml", [("heidi@example.net", "5.2.1", "550 5.2.1 The email account that you tried to reach is disabled.", "failed")], reason="inactive_mailbox")

add("postfix_plain_user_unknown.eml", f"""
Return-Path: <>
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
To: {VERP}
Subject: Undelivered Mail Returned to Sender
Date: Sun, 22 Nov 2026 10:10:00 +0000

This is the mail system at host mail.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<ivan@example.org>: host mx1.example.org[192.0.2.40] said: 550 5.1.1
    <ivan@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--- Below this line is a copy of the message.

{ORIG_HDRS.format(rcpt="ivan@example.org")}
Hello Ivan.
""", "dsn", "hard", "no_such_user", "ivan@example.org", "5.1.1")

add("exim_plain_user_unknown.eml", f"""
Return-path: <>
Envelope-to: {VERP}
Delivery-date: Sun, 22 Nov 2026 10:20:03 +0000
Received: from Debian-exim by mail.example.com with local (Exim 4.96)
	id 1tEdQF-0004Zs-2b
	for {VERP}; Sun, 22 Nov 2026 10:20:03 +0000
X-Failed-Recipients: judy@example.com
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mail.example.com>
To: {VERP}
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tEdQF-0004Zs-2b@mail.example.com>
Date: Sun, 22 Nov 2026 10:20:03 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  judy@example.com
    host mx.example.com [192.0.2.50]
    SMTP error from remote mail server after RCPT TO:<judy@example.com>:
    550 5.1.1 <judy@example.com>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

{ORIG_HDRS.format(rcpt="judy@example.com")}
Hello Judy.
""", "dsn", "hard", "no_such_user", "judy@example.com", "5.1.1")

add("exim_plain_quota_two.eml", f"""
Return-path: <>
X-Failed-Recipients: mallory@example.com, niaj@example.com
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mail.example.com>
To: {VERP}
Subject: Mail delivery failed: returning message to sender
Date: Sun, 22 Nov 2026 10:21:03 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  mallory@example.com
    host mx.example.com [192.0.2.50]
    SMTP error from remote mail server after RCPT TO:<mallory@example.com>:
    552 5.2.2 <mallory@example.com>: Mailbox full, quota exceeded

  niaj@example.com
    host mx.example.com [192.0.2.50]
    SMTP error from remote mail server after RCPT TO:<niaj@example.com>:
    552 5.2.2 <niaj@example.com>: Mailbox full, quota exceeded

------ This is a copy of the message, including all the headers. ------

{ORIG_HDRS.format(rcpt="mallory@example.com")}
Hello.
""", "dsn", "soft", "mailbox_full", "mallory@example.com", "5.2.2", crlf=True)

add("sendmail_plain_user_unknown.eml", f"""
Return-Path: <>
Date: Sun, 22 Nov 2026 10:30:00 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.edu>
Message-Id: <202611221030.2AMAU0xQ012345@relay.example.edu>
To: <{VERP}>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

The original message was received at Sun, 22 Nov 2026 10:29:58 GMT
from mta1.sender.example.com [198.51.100.10]

   ----- The following addresses had permanent fatal errors -----
<oscar@example.edu>
    (reason: 550 5.1.1 <oscar@example.edu>... User unknown)

   ----- Transcript of session follows -----
... while talking to mail.example.edu.:
>>> DATA
<<< 550 5.1.1 <oscar@example.edu>... User unknown
550 5.1.1 <oscar@example.edu>... User unknown
<<< 503 5.0.0 Need RCPT (recipient)

   ----- Original message follows -----

{ORIG_HDRS.format(rcpt="oscar@example.edu")}
Hello Oscar.
""", "dsn", "hard", "no_such_user", "oscar@example.edu", "5.1.1")

add("sendmail_dsn_spam_block.eml", f"""
Return-Path: <>
Date: Sun, 22 Nov 2026 10:31:00 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.edu>
Message-Id: <202611221031.2AMAV0xQ012399@relay.example.edu>
To: <{VERP}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="2AMAV0xQ012399.1732271460/relay.example.edu"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

This is a MIME-encapsulated message

--2AMAV0xQ012399.1732271460/relay.example.edu

The original message was received at Sun, 22 Nov 2026 10:30:58 GMT
from mta1.sender.example.com [198.51.100.10]

   ----- The following addresses had permanent fatal errors -----
<peggy@example.edu>
    (reason: 554 5.7.1 Service unavailable; Client host [198.51.100.10] blocked using zen.spamhaus.org)

--2AMAV0xQ012399.1732271460/relay.example.edu
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.edu
Received-From-MTA: DNS; mta1.sender.example.com
Arrival-Date: Sun, 22 Nov 2026 10:30:58 GMT

Final-Recipient: RFC822; peggy@example.edu
Action: failed
Status: 5.7.1
Remote-MTA: DNS; mx.example.edu
Diagnostic-Code: SMTP; 554 5.7.1 Service unavailable; Client host [198.51.100.10] blocked using zen.spamhaus.org
Last-Attempt-Date: Sun, 22 Nov 2026 10:31:00 GMT

--2AMAV0xQ012399.1732271460/relay.example.edu
Content-Type: text/rfc822-headers

{ORIG_HDRS.format(rcpt="peggy@example.edu")}
--2AMAV0xQ012399.1732271460/relay.example.edu--
""", "dsn", "soft", "spam_block", "peggy@example.edu", "5.7.1")

add("qmail_user_unknown.eml", f"""
Return-Path: <>
Date: 22 Nov 2026 10:40:00 -0000
From: MAILER-DAEMON@mail.example.info
To: {VERP}
Subject: failure notice

Hi. This is the qmail-send program at mail.example.info.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<rupert@example.info>:
192.0.2.60 does not like recipient.
Remote host said: 550 5.1.1 <rupert@example.info>: Recipient address rejected: User unknown
Giving up on 192.0.2.60.

--- Below this line is a copy of the message.

{ORIG_HDRS.format(rcpt="rupert@example.info")}
Hello Rupert.
""", "dsn", "hard", "no_such_user", "rupert@example.info", "5.1.1")

add("qmail_no_mailbox_no_code.eml", f"""
Return-Path: <>
From: MAILER-DAEMON@mail.example.info
To: {VERP}
Subject: failure notice

Hi. This is the qmail-send program at mail.example.info.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<sybil@example.info>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{ORIG_HDRS.format(rcpt="sybil@example.info")}
""", "dsn", "hard", "no_such_user", "sybil@example.info", "5.1.1")

add("exchange_dsn_not_found.eml", f"""
Return-Path: <>
From: postmaster@corp.example.com
To: {VERP}
Date: Sun, 22 Nov 2026 10:50:00 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="_000_e1f0c3a9b7d24bd1a5e2_"
Content-Language: en-US
Subject: Undeliverable: November offers
Auto-Submitted: auto-replied
MIME-Version: 1.0

--_000_e1f0c3a9b7d24bd1a5e2_
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups:

trent@corp.example.com
The email address you entered couldn't be found. Please check the recipient's email address and try to resend the message. If the problem continues, please contact your helpdesk.

Diagnostic information for administrators:

Generating server: EX01.corp.example.com

trent@corp.example.com
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'

--_000_e1f0c3a9b7d24bd1a5e2_
Content-Type: message/delivery-status

Reporting-MTA: dns;EX01.corp.example.com
Received-From-MTA: dns;mta1.sender.example.com
Arrival-Date: Sun, 22 Nov 2026 10:49:58 +0000

Final-Recipient: rfc822;trent@corp.example.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--_000_e1f0c3a9b7d24bd1a5e2_
Content-Type: message/rfc822

{ORIG_HDRS.format(rcpt="trent@corp.example.com")}
Hello Trent.

--_000_e1f0c3a9b7d24bd1a5e2_--
""", "dsn", "hard", "no_such_user", "trent@corp.example.com", "5.1.10", crlf=True)

add("exchange_plain_not_found.eml", f"""
From: Microsoft Outlook <postmaster@corp.example.com>
To: {VERP}
Subject: Undeliverable: November offers
Date: Sun, 22 Nov 2026 10:51:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Delivery has failed to these recipients or groups:

victor@corp.example.com
The email address you entered couldn't be found. Please check the recipien=
t's email address and try to resend the message.

Diagnostic information for administrators:

Generating server: EX02.corp.example.com

victor@corp.example.com
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Original message headers:

{ORIG_HDRS.format(rcpt="victor@corp.example.com")}
""", "dsn", "hard", "no_such_user", "victor@corp.example.com", "5.1.1")

add("gmail_dsn_no_such_user.eml", f"""
Delivered-To: {VERP}
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {VERP}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <5f2a9c1e.1c69fb81.8a2b.0000.GMR@mx.google.example>
Date: Sun, 22 Nov 2026 02:55:00 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000d7a8b905f1c2d3e4"; report-type=delivery-status

--000000000000d7a8b905f1c2d3e4
Content-Type: multipart/related; boundary="000000000000d7b1c305f1c2d3e5"

--000000000000d7b1c305f1c2d3e5
Content-Type: multipart/alternative; boundary="000000000000d7b1c405f1c2d3e6"

--000000000000d7b1c405f1c2d3e6
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to walter@example.org because the address couldn't be found, or is unable to receive mail.

The response from the remote server was:
550 5.1.1 The email account that you tried to reach does not exist.

--000000000000d7b1c405f1c2d3e6
Content-Type: text/html; charset="UTF-8"

<html><body><h1>Address not found</h1><p>Your message wasn't delivered to <b>walter@example.org</b>.</p></body></html>

--000000000000d7b1c405f1c2d3e6--
--000000000000d7b1c305f1c2d3e5--
--000000000000d7a8b905f1c2d3e4
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mta1.sender.example.com
Arrival-Date: Sun, 22 Nov 2026 02:54:59 -0800 (PST)
X-Original-Message-ID: <c41.7f3a@sender.example.com>

Final-Recipient: rfc822; walter@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org. (192.0.2.70, the server for the domain example.org.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try
 550-5.1.1 double-checking the recipient's email address for typos or
 550 5.1.1 unnecessary spaces.
Last-Attempt-Date: Sun, 22 Nov 2026 02:55:00 -0800 (PST)

--000000000000d7a8b905f1c2d3e4
Content-Type: text/rfc822-headers

{ORIG_HDRS.format(rcpt="walter@example.org")}
--000000000000d7a8b905f1c2d3e4--
""", "dsn", "hard", "no_such_user", "walter@example.org", "5.1.1")

add("gmail_dsn_spam.eml", f"""
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {VERP}
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="00000000000099aa"; report-type=delivery-status

--00000000000099aa
Content-Type: text/plain; charset="UTF-8"

** Message blocked **

Your message to xavier@gmail.example couldn't be delivered.

--00000000000099aa
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com

Final-Recipient: rfc822; xavier@gmail.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550-5.7.1 [198.51.100.10] Our system has detected that this message is
 550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,
 550 5.7.1 this message has been blocked.

--00000000000099aa--
""", "dsn", "soft", "spam_block", "xavier@gmail.example", "5.7.1")

add("gmail_plain_legacy.eml", f"""
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {VERP}
Subject: Delivery Status Notification (Failure)
Content-Type: text/plain; charset=ISO-8859-1

Delivery to the following recipient failed permanently:

     yolanda@example.org

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for the recipient domain example.org by mx.example.org. [192.0.2.71].

The error that the other server returned was:
550 5.1.1 <yolanda@example.org>: Recipient address rejected: User unknown

----- Original message -----

{ORIG_HDRS.format(rcpt="yolanda@example.org")}
""", "dsn", "hard", "no_such_user", "yolanda@example.org", "5.1.1")

add("yahoo_plain_no_account.eml", f"""
Return-Path: <>
From: MAILER-DAEMON@yahoo.example
To: {VERP}
Subject: Failure Notice
Date: Sun, 22 Nov 2026 11:00:00 +0000

Sorry, we were unable to deliver your message to the following address.

<zoe@yahoo.example>:
Remote host said: 554 delivery error: dd This user doesn't have a yahoo.example account (zoe@yahoo.example) [0] - mta1010.mail.yahoo.example

--- Below this line is a copy of the message.

{ORIG_HDRS.format(rcpt="zoe@yahoo.example")}
""", "dsn", "hard", "no_such_user", "zoe@yahoo.example", "-")

add("yahoo_plain_mailbox_full.eml", f"""
Return-Path: <>
From: MAILER-DAEMON@yahoo.example
To: {VERP}
Subject: Failure Notice

Sorry, we were unable to deliver your message to the following address.

<amy@yahoo.example>:
Remote host said: 552 1 Requested mail action aborted, mailbox is full [RCPT_TO]

--- Below this line is a copy of the message.
""", "dsn", "soft", "mailbox_full", "amy@yahoo.example", "-")

add("yahoo_arf_complaint.eml", f"""
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.example>
To: fbl@bounces.example.com
Subject: FW: November offers
Date: Sun, 22 Nov 2026 11:10:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="----=_Part_1234_5678.1732273800"

------=_Part_1234_5678.1732273800
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP 198.51.100.10 on Sun, 22 Nov 2026 10:00:01 +0000.
For more information about this format please see http://www.mipassoc.org/arf/.

------=_Part_1234_5678.1732273800
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 1
Original-Mail-From: <{VERP}>
Original-Rcpt-To: <bob@yahoo.example>
Arrival-Date: Sun, 22 Nov 2026 10:00:01 +0000
Reported-Domain: sender.example.com
Authentication-Results: mta1010.mail.yahoo.example; dkim=pass header.d=sender.example.com
Source-IP: 198.51.100.10

------=_Part_1234_5678.1732273800
Content-Type: message/rfc822

{ORIG_HDRS.format(rcpt="bob@yahoo.example")}
Hello Bob.

------=_Part_1234_5678.1732273800--
""", "arf_complaint", "complaint", "complaint", "bob@yahoo.example", "-")

add("arf_from_original_headers.eml", f"""
From: staff@fbl.isp.example
To: fbl@bounces.example.com
Subject: complaint about message from 198.51.100.10
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-b"

--arf-b
Content-Type: text/plain

A user of our service marked this message as junk.

--arf-b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1
Source-IP: 198.51.100.10

--arf-b
Content-Type: text/rfc822-headers

{ORIG_HDRS.format(rcpt="Charlie Doe <charlie@isp.example>")}
--arf-b--
""", "arf_complaint", "complaint", "complaint", "charlie@isp.example", "-")

add("autoreply_rfc3834_ooo.eml", f"""
From: Dan Smith <dan@example.net>
To: {VERP}
Subject: Out of Office: November offers
Date: Sun, 22 Nov 2026 11:20:00 +0000
Auto-Submitted: auto-replied
In-Reply-To: <c41.7f3a@sender.example.com>
Content-Type: text/plain; charset=utf-8

I am out of the office until 1 December with limited access to email.
""", "auto_reply", "auto_reply", "auto_reply", "-", "-")

add("autoreply_exchange_automatic_reply.eml", f"""
From: Eve Jones <eve@corp.example.com>
To: News <news@sender.example.com>
Subject: Automatic reply: November offers
Date: Sun, 22 Nov 2026 11:21:00 +0000
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: eve@corp.example.com
Content-Type: text/plain; charset=us-ascii

Thank you for your message. I am on leave and will reply when I return.
""", "auto_reply", "auto_reply", "auto_reply", "-", "-")

add("autoreply_x_autoreply_header.eml", f"""
From: fay@example.org
To: {VERP}
Subject: Re: November offers
X-Autoreply: yes
Precedence: bulk

Thanks, your mail has been received.
""", "auto_reply", "auto_reply", "auto_reply", "-", "-")

add("autoreply_precedence_vacation_2047.eml", f"""
From: gus@example.de
To: {VERP}
Subject: =?utf-8?q?Abwesenheitsnotiz=3A_November_offers?=
Precedence: auto_reply

Ich bin bis zum 1. Dezember nicht im Buero.
""", "auto_reply", "auto_reply", "auto_reply", "-", "-")

add("not_a_bounce_human_reply.eml", f"""
From: Hank <hank@example.com>
To: news@sender.example.com
Subject: Re: November offers
Date: Sun, 22 Nov 2026 11:30:00 +0000
Content-Type: text/plain

Please send me the catalogue.

> Hello.
""", "unknown", "unknown", "none", "-", "-")

import base64
_ds = base64.encodebytes(b"""Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.outlook.example
Received-From-MTA: dns;mta1.sender.example.com
Arrival-Date: Sun, 22 Nov 2026 11:40:00 +0000

Final-Recipient: rfc822;ivy@outlook.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp;550 5.7.1 Unfortunately, messages from [198.51.100.10] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).
""").decode()
add("outlook_dsn_base64_blocklist.eml", f"""
From: Microsoft Outlook <MAILER-DAEMON@outlook.example>
To: {VERP}
Subject: Undeliverable: November offers
Date: Sun, 22 Nov 2026 11:40:01 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="_b64_report_"

--_b64_report_
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{base64.encodebytes("Your message to ivy@outlook.example couldn't be delivered.".encode()).decode()}
--_b64_report_
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

{_ds}
--_b64_report_--
""", "dsn", "soft", "spam_block", "ivy@outlook.example", "5.7.1")

add("postfix_plain_two_recipients.eml", f"""
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
To: {VERP}
Subject: Undelivered Mail Returned to Sender

This is the mail system at host mail.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<jack@example.org>: host mx1.example.org[192.0.2.40] said: 550 5.7.1
    Message rejected due to DMARC policy (in reply to end of DATA command)

<kate@example.org>: host mx1.example.org[192.0.2.40] said: 550 5.1.1
    <kate@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--- Below this line is a copy of the message.
""", "dsn", "hard", "no_such_user", "jack@example.org", "5.7.1")

add("dsn_success_notify.eml", f"""
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: {VERP}
Subject: Successful Mail Delivery Report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="ok"

--ok
Content-Type: text/plain

Your message was successfully delivered to the destination(s) listed below.

--ok
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; leo@example.net
Action: delivered
Status: 2.0.0
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4Q9A1

--ok--
""", "dsn", "unknown", "none", "-", "-")

for name, text in files.items():
    with open(os.path.join(D, name), "w", newline="") as f:
        f.write(text)
with open(os.path.join(D, "expected.tsv"), "w") as f:
    f.write("# file\tkind\tcategory\treason\tfirst address\tstatus ('-' = none)\n")
    f.write("\n".join(exp) + "\n")
print(len(files), "files")
