"""Refusals as large mailbox providers and common MTAs word them (from their postmaster pages and
bounces seen in the wild; addresses and hosts replaced by test ones). reject_mx.py answers a
recipient whose local part is a key here with its reply, at RCPT or at the end of DATA, and
make_postfix_samples.py has a real Postfix turn each into a bounce for the corpus.

local part: (stage, reply); "{}" in a reply stands for the recipient."""

REPLIES = {
    "gmail-nosuchuser": ("rcpt", "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
                                 "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
                                 "550-5.1.1 unnecessary spaces. For more information, go to\r\n"
                                 "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123456qkb.99 - gsmtp"),
    "gmail-disabled": ("rcpt", "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\r\n"
                               "550 5.2.1  https://support.google.com/mail/?p=DisabledUser b2si234567qkb.88 - gsmtp"),
    "gmail-overquota": ("rcpt", "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\r\n"
                                "452-4.2.2 recipient to\r\n"
                                "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp c3si345678qkb.77 - gsmtp"),
    "gmail-unauthenticated": ("data", "550-5.7.26 This mail has been blocked because the sender is\r\n"
                                      "550-5.7.26 unauthenticated. Gmail requires all senders to authenticate with\r\n"
                                      "550-5.7.26 either SPF or DKIM.\r\n"
                                      "550-5.7.26\r\n"
                                      "550-5.7.26  Authentication results:\r\n"
                                      "550-5.7.26  DKIM = did not pass\r\n"
                                      "550-5.7.26  SPF [example.test] with ip: [127.0.0.1] = did not pass\r\n"
                                      "550 5.7.26  https://support.google.com/mail/answer/81126 d4si4567qkb.6 - gsmtp"),
    "gmail-unsolicited": ("data", "550-5.7.1 [127.0.0.1] Our system has detected that this message is\r\n"
                                  "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n"
                                  "550-5.7.1 this message has been blocked. Please visit\r\n"
                                  "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError e5si56qkb.5 - gsmtp"),
    "gmail-ratelimit": ("rcpt", "421-4.7.28 [127.0.0.1] Our system has detected an unusual rate of\r\n"
                                "421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n"
                                "421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n"
                                "421-4.7.28 rate limited. Please visit\r\n"
                                "421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n"
                                "421 4.7.28 review our Bulk Email Senders Guidelines. g7si78qkb.3 - gsmtp"),
    "gmail-toobig": ("data", "552-5.3.4 Your message exceeded Google's message size limits. Please visit\r\n"
                             "552 5.3.4  https://support.google.com/mail/?p=MaxSizeError f6si67qkb.4 - gsmtp"),
    "outlook-blocklist": ("rcpt", "550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your "
                                  "Internet service provider since part of their network is on our block list (S3150). "
                                  "You can also refer your provider to "
                                  "http://mail.live.com/mail/troubleshooting.aspx#errors. "
                                  "[DB5EUR03FT019.eop-EUR03.prod.protection.outlook.com]"),
    "outlook-mailboxfull": ("rcpt", "552 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
                                    "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent "
                                    "exception with message Cannot open mailbox."),
    "o365-banned-ip": ("rcpt", "550 5.7.606 Access denied, banned sending IP [127.0.0.1]. To request removal from this "
                               "list please visit https://sender.office.com/ and follow the directions. For more "
                               "information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) "
                               "[AM4PEPF00025F9A.EURPRD83.prod.outlook.com]"),
    "o365-dbeb": ("rcpt", "550 5.4.1 Recipient address rejected: Access denied. For more information see "
                          "https://aka.ms/EXOSmtpErrors [AM2PEPF0001C70F.eurprd05.prod.outlook.com]"),
    "o365-ratelimit": ("rcpt", "451 4.7.650 The mail server [127.0.0.1] has been temporarily rate limited due to IP "
                               "reputation. For e-mail delivery information, see https://postmaster.live.com (S775) "
                               "[Name=Protocol Filter Agent][AGT=PFA][MxId=11BB6F3C05E2D9A6] "
                               "[DM6NAM12FT088.eop-nam12.prod.protection.outlook.com]"),
    "o365-recipient-not-found": ("rcpt", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {} not found by SMTP "
                                         "address lookup"),
    "yahoo-nouser": ("rcpt", "554 delivery error: dd This user doesn't have a yahoo.com account ({}) [0] - "
                             "mta4212.mail.gq1.yahoo.com"),
    "yahoo-policy": ("data", "554 5.7.9 Message not accepted for policy reasons.  See "
                             "https://postmaster.yahooinc.com/error-codes"),
    "yahoo-tss09": ("rcpt", "553 5.7.2 [TSS09] All messages from 127.0.0.1 will be permanently deferred; Retrying "
                            "will NOT succeed. See https://postmaster.yahooinc.com/error-codes"),
    "webde-policy": ("rcpt", "554-Transaction failed\r\n554-Reject due to policy restrictions.\r\n"
                             "554 For explanation visit https://postmaster.web.de/en/case?c=r0701&i=ip&v=127.0.0.1"
                             "&r=1MWSif-1sQ8Qf3aBT-00XSiO"),
    "gmail-receiving-rate": ("rcpt", "452-4.2.1 The recipient is receiving mail at a rate that prevents additional\r\n"
                                     "452-4.2.1 messages from being delivered. Please resend your message at a later\r\n"
                                     "452-4.2.1 time. If the user is able to receive mail at that time, your message\r\n"
                                     "452 4.2.1 will be delivered. h8si89qkb.2 - gsmtp"),
    "outlook-hourly-limit": ("rcpt", "421 RP-001 (BAY004-MC1F60) Unfortunately, some messages from 127.0.0.1 weren't sent. "
                                     "Please try again. We have limits for how many messages can be sent per hour and per "
                                     "day. You can also refer to http://mail.live.com/mail/troubleshooting.aspx#errors."),
    "outlook-dynamic-ip": ("rcpt", "550 OU-001 (SNT004-MC1F43) Unfortunately, messages from 127.0.0.1 weren't sent. Please "
                                   "contact your Internet service provider. You can tell them that Hotmail does not relay "
                                   "dynamically-assigned IP ranges. You can also refer your provider to "
                                   "http://mail.live.com/mail/troubleshooting.aspx#errors."),
    "o365-traffic-not-accepted": ("rcpt", "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this "
                                          "IP. For more information please go to "
                                          "http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230) "
                                          "[VI1EUR06FT043.eop-eur06.prod.protection.outlook.com]"),
    "o365-too-many-recipients": ("rcpt", "452 4.5.3 Too many recipients "
                                         "[AM6EUR05FT012.eop-eur05.prod.protection.outlook.com]"),
    "o365-bad-outbound-sender": ("rcpt", "550 5.1.8 Access denied, bad outbound sender AS(42004) "
                                         "[DB8EUR05FT029.eop-eur05.prod.protection.outlook.com]"),
    "exchange-hop-count": ("data", "554 5.4.14 Hop count exceeded - possible mail loop ATTR34 "
                                   "[AM0PR02MB4563.eurprd02.prod.outlook.com]"),
    "aol-not-accepted": ("rcpt", "521 5.2.1 :  AOL will not accept delivery of this message."),
    "tonline-blocked": ("rcpt", "554 IP=127.0.0.1 - A problem occurred. (Ask your postmaster for help or to contact "
                                "tosa@rx.t-online.de to clarify.) (BL)"),
    "mimecast-antispoof": ("rcpt", "550 Rejected by header based Anti-Spoofing policy: sender@example.test - "
                                   "https://community.mimecast.com/docs/DOC-1369#550 [Gx8zLmGwPGyT6tKhEqNpKA.uk123]"),
    "postgrey": ("rcpt", "450 4.2.0 <{}>: Recipient address rejected: Greylisted, see "
                         "http://postgrey.schweikert.ch/help/greylisting.example.html"),
    "address-rejected": ("rcpt", "550 5.1.0 Address rejected."),
    "bad-syntax": ("rcpt", "553 5.1.3 Bad recipient address syntax"),
    "gmail-security-content": ("data", "552-5.7.0 This message was blocked because its content presents a potential\r\n"
                                       "552-5.7.0 security issue. Please visit\r\n"
                                       "552-5.7.0  https://support.google.com/mail/?p=BlockedMessage to review our\r\n"
                                       "552 5.7.0 message content and attachment content guidelines. i9si90qkb.1 - gsmtp"),
    "gmail-low-reputation": ("data", "550-5.7.1 [127.0.0.1] Gmail has detected that this message is likely\r\n"
                                     "550-5.7.1 suspicious due to the very low reputation of the sending domain. To\r\n"
                                     "550-5.7.1 best protect our users from spam, the message has been blocked.\r\n"
                                     "550 5.7.1  https://support.google.com/mail/answer/188131 j1si12qkb.0 - gsmtp"),
    "mailru-disabled": ("rcpt", "550 Message was not accepted -- invalid mailbox.  Local mailbox {} is unavailable: "
                                "account is disabled"),
    "system-storage": ("rcpt", "452 4.3.1 Insufficient system storage"),
    "zoho-policy": ("data", "554 5.7.7 Email policy violation detected"),
    "comcast-notcustomer": ("rcpt", "550 5.1.1 <{}>: Not our Customer"),
    "icloud-nouser": ("rcpt", "550 5.1.1 <{}>: user does not exist"),
    "exim-unrouteable": ("rcpt", "550 Unrouteable address"),
    "sendmail-unknown": ("rcpt", "550 5.1.1 <{}>... User unknown"),
    "plain-mailbox-unavailable": ("rcpt", "550 Requested action not taken: mailbox unavailable"),
    "dovecot-quota": ("data", "552 5.2.2 <{}>: Quota exceeded (mailbox for user is full)"),
    "exim-sender-verify": ("rcpt", "550-Verification failed for <sender@example.test>\r\n550-Unrouteable address\r\n"
                                   "550 Sender verify failed"),
    "postfix-sender-domain": ("rcpt", "450 4.1.8 <sender@example.test>: Sender address rejected: Domain not found"),
    "postfix-relay-denied": ("rcpt", "554 5.7.1 <{}>: Relay access denied"),
    "postfix-no-ptr": ("rcpt", "450 4.7.1 Client host rejected: cannot find your hostname, [127.0.0.1]"),
    "spamhaus-listed": ("rcpt", "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; "
                                "https://www.spamhaus.org/query/ip/127.0.0.1"),
    "amavis-virus": ("data", "554 5.7.0 Reject, id=04213-07 - INFECTED: Eicar-Signature"),
    "dmarc-reject": ("data", "550 5.7.1 Email rejected per DMARC policy for example.test"),
    "postfix-toobig": ("data", "552 5.3.4 Error: message file too big"),
}
