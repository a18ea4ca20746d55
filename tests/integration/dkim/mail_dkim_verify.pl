#!/usr/bin/perl
# Verifies the message on stdin with Mail::DKIM, its key queries sent to the test DNS server
# on 127.0.0.1:PORT. Prints "selector result details" per signature.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my $port = shift or die "usage: mail_dkim_verify.pl PORT < message\n";
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port,
                                                  recurse => 0, tcp_timeout => 5, udp_timeout => 5));
binmode STDIN;
my $dkim = Mail::DKIM::Verifier->new();
while (my $line = <STDIN>) {
    $line =~ s/\r?\n?\z/\r\n/;    # the wire form: CRLF line ends, a last line ended too
    $dkim->PRINT($line);
}
$dkim->CLOSE();
foreach my $signature ($dkim->signatures) {
    my $detail = $signature->result_detail // '';
    printf "%s %s %s\n", $signature->selector, $signature->result, $detail;
}
