#!/usr/bin/perl
# perl-verify.pl: the Perl stack of the original prototype (Mail::DKIM::Verifier,
# Mail::SPF::Server, Mail::DMARC::PurePerl; Debian's libmail-dkim-perl, libmail-spf-perl,
# libmail-dmarc-perl) on the first --limit messages of a gen-corpus corpus, for comparison
# with bench/verify.
#
# DNS comes from an in-memory resolver fed from the corpus's zone.txt (BenchResolver
# below: a Net::DNS::Resolver stand-in whose send/query/search return Net::DNS::Packet
# objects; answers are built once and reused, like a warm cache). The envelope is read
# from the same places the generator wrote it: the client IP and HELO from the second
# Received field (the boundary hop), MAIL FROM from Return-Path.
#
# Prints messages per second (one process, one core), the verdict counts, and compares
# each verdict with the corpus's expected.tsv and, with --c-verdicts, with bench/verify's.
# Exit status 1 when a verdict differs from expected.tsv.
#
# Usage: perl-verify.pl --corpus DIR [--limit N] [--c-verdicts FILE]
use strict;
use warnings;
use Getopt::Long qw(GetOptions);
use Time::HiRes qw(time);
use Net::DNS;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Mail::SPF;
use Mail::DMARC::PurePerl;

package BenchResolver;    ## no critic (Modules::ProhibitMultiplePackages)

# Reads the subset of the zone-file syntax that gen-corpus writes: one record per line,
# absolute owner, optional TTL, optional IN, types A, MX, TXT; $TTL; ';' comments.
sub new {
    my ( $class, $path ) = @_;
    my $self = bless { rrs => {}, exists => {}, packets => {}, errorstring => 'NOERROR', queries => 0 }, $class;
    open my $fh, '<', $path or die "$path: $!\n";
    my $ttl = 3600;
    while ( my $line = <$fh> ) {
        chomp $line;
        next if $line =~ /^\s*(;|$)/;
        if ( $line =~ /^\$TTL\s+(\d+)/ ) { $ttl = $1; next; }
        my ( $owner, $rest ) = $line =~ /^(\S+)\s+(.*)$/ or die "$path: cannot read '$line'\n";
        $owner = lc $owner;
        $owner =~ s/\.$//;
        my $rr_ttl = $ttl;
        $rr_ttl = $1 if $rest =~ s/^(\d+)\s+//;
        $rest =~ s/^IN\s+//;
        my ( $type, $rdata ) = $rest =~ /^(\S+)\s+(.*)$/ or die "$path: cannot read '$line'\n";
        my $rr;
        if ( $type eq 'TXT' ) {
            my @strings;
            while ( $rdata =~ /"((?:[^"\\]|\\.)*)"/g ) {
                my $s = $1;
                $s =~ s/\\(.)/$1/g;
                push @strings, $s;
            }
            my $joined = join '', @strings;
            my @chunks = unpack '(a255)*', $joined;    # 255-octet character-strings, as on the wire
            @chunks = ('') if !@chunks;
            $rr = Net::DNS::RR->new( owner => $owner, ttl => $rr_ttl, type => 'TXT', txtdata => [@chunks] );
        }
        elsif ( $type eq 'A' || $type eq 'MX' ) {
            $rr = Net::DNS::RR->new("$owner. $rr_ttl IN $type $rdata");
        }
        else {
            die "$path: type $type is not supported by this resolver\n";
        }
        push @{ $self->{rrs}{"$owner/$type"} }, $rr;
        my @labels = split /\./, $owner;
        $self->{exists}{ join '.', @labels[ $_ .. $#labels ] } = 1 for 0 .. $#labels;
    }
    close $fh;
    return $self;
}

sub send {    ## no critic (Subroutines::ProhibitBuiltinHomonyms)
    my ( $self, $name, $type, $class ) = @_;
    $type ||= 'A';
    $name = lc $name;
    $name =~ s/\.$//;
    $self->{queries}++;
    $self->{errorstring} = 'NOERROR';
    my $key = "$name/$type";
    return $self->{packets}{$key} if $self->{packets}{$key};
    my $packet = Net::DNS::Packet->new( $name, $type, 'IN' );
    $packet->header->qr(1);
    $packet->header->ra(1);
    if ( my $rrs = $self->{rrs}{$key} ) {
        $packet->push( answer => @$rrs );
    }
    elsif ( !$self->{exists}{$name} ) {
        $packet->header->rcode('NXDOMAIN');
    }
    return $self->{packets}{$key} = $packet;
}

# Net::DNS::Resolver's query/search: the packet if it has answers, else undef.
sub query {
    my ( $self, @args ) = @_;
    my $packet = $self->send(@args);
    if ( $packet->header->ancount == 0 ) {
        $self->{errorstring} = $packet->header->rcode eq 'NOERROR' ? 'NOERROR' : $packet->header->rcode;
        return;
    }
    return $packet;
}
sub search      { my ( $self, @args ) = @_; return $self->query(@args); }
sub errorstring { my ($self) = @_; return $self->{errorstring}; }
sub tcp_timeout { return 1; }
sub udp_timeout { return 1; }
sub queries     { my ($self) = @_; return $self->{queries}; }

package main;    ## no critic (Modules::ProhibitMultiplePackages)

my ( $corpus, $c_verdicts_path );
my $limit = 300;
GetOptions( 'corpus=s' => \$corpus, 'limit=i' => \$limit, 'c-verdicts=s' => \$c_verdicts_path )
  && defined $corpus && $limit > 0
  or die "usage: $0 --corpus DIR [--limit N] [--c-verdicts FILE]\n";

my @verdict_order = qw(pass none fail-none quarantine reject temperror permerror);

sub read_tsv {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!\n";
    my @rows;
    while ( my $l = <$fh> ) {
        chomp $l;
        next if $l =~ /^(#|$)/;
        push @rows, [ split /\t/, $l ];
    }
    close $fh;
    return @rows;
}

my @expected = read_tsv("$corpus/expected.tsv");
splice @expected, $limit if @expected > $limit;
my %c_verdict;
if ($c_verdicts_path) {
    $c_verdict{ $_->[0] } = $_->[1] for read_tsv($c_verdicts_path);
}

# Everything in memory before timing.
my @msgs;
for my $row (@expected) {
    my $path = "$corpus/msg/$row->[0]";
    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    push @msgs, { file => $row->[0], expected => $row->[1], category => $row->[2], text => $text };
}

my $resolver = BenchResolver->new("$corpus/zone.txt");
Mail::DKIM::DNS::resolver($resolver);
my $spf_server = Mail::SPF::Server->new( dns_resolver => $resolver, default_authority_explanation => 'bench' );

# The envelope from the header: Return-Path, and the second Received field's
# "from HELO (rdns [IP])".
sub envelope {
    my ($text) = @_;
    my ($header) = split /\r\n\r\n/, $text, 2;
    $header =~ s/\r\n[ \t]+/ /g;
    my @fields   = split /\r\n/, $header;
    my @received = grep {/^Received:/i} @fields;
    my ($rp)     = map { /^Return-Path:\s*<([^>]*)>/i ? $1 : () } @fields;
    my ($from)   = map { /^From:.*<[^@>]+@([^>]+)>/i ? lc $1 : () } @fields;
    my ( $helo, $ip ) = ( $received[1] // '' ) =~ /^Received:\s*from\s+(\S+)\s+\([^\[]*\[([^\]]+)\]\)/i;
    return ( $ip, $helo, $rp, $from );
}

sub verify_one {
    my ($msg) = @_;
    my ( $ip, $helo, $mail_from, $from_domain ) = envelope( $msg->{text} );
    return 'permerror' if !defined $ip || !defined $from_domain;

    my $dkim = Mail::DKIM::Verifier->new();
    $dkim->PRINT( $msg->{text} );
    $dkim->CLOSE;

    my $mf_identity = ( defined $mail_from && $mail_from ne '' ) ? $mail_from : "postmaster\@$helo";
    my $request = Mail::SPF::Request->new(
        versions      => [1],
        scope         => 'mfrom',
        identity      => $mf_identity,
        ip_address    => $ip,
        helo_identity => $helo
    );
    my $spf = $spf_server->process($request);
    my ($spf_domain) = $mf_identity =~ /@(.+)$/;

    my $dmarc = Mail::DMARC::PurePerl->new;
    $dmarc->set_resolver($resolver);
    $dmarc->source_ip($ip);
    $dmarc->envelope_to('inbox-provider.net');
    $dmarc->envelope_from($spf_domain);
    $dmarc->header_from($from_domain);
    $dmarc->dkim($dkim);
    $dmarc->spf( domain => $spf_domain, scope => 'mfrom', result => $spf->code );
    my $r = $dmarc->validate;

    return 'pass' if $r->result eq 'pass';
    my $published = eval { $r->published };
    return 'none' if $r->result eq 'none' || !$published;
    my $disp = $r->disposition // 'none';
    return $disp eq 'reject' ? 'reject' : $disp eq 'quarantine' ? 'quarantine' : 'fail-none';
}

my $start = time;
for my $m (@msgs) {
    my $v = eval { verify_one($m) };
    if ( !defined $v ) {
        warn "perl-verify: $m->{file}: $@";
        $v = 'temperror';
    }
    $m->{verdict} = $v;
}
my $secs = time - $start;
my $rate = @msgs / $secs;

my $peak_kb = 0;
if ( open my $st, '<', '/proc/self/status' ) {
    while (<$st>) { $peak_kb = $1 if /^VmHWM:\s+(\d+)/; }
    close $st;
}

sub counts {
    my ($key) = @_;
    my %c;
    $c{$_} = 0 for @verdict_order;
    for my $m (@msgs) {
        my $v = $key eq 'c' ? ( $c_verdict{ $m->{file} } // 'missing' ) : $m->{$key};
        $c{$v}++;
    }
    return join ' ', map {"$_=$c{$_}"} ( @verdict_order, grep { my $k = $_; !grep { $_ eq $k } @verdict_order } sort keys %c );
}

my $n = scalar @msgs;
printf "perl      %d messages in %.2f s: %.1f msg/s (one process, one core); peak RSS %.1f MB; %d DNS queries\n",
  $n, $secs, $rate, $peak_kb / 1024, $resolver->queries;
print "perl      verdicts:   ", counts('verdict'),  "\n";
print "perl      expected:   ", counts('expected'), "\n";
print "perl      C verifier: ", counts('c'), "\n" if $c_verdicts_path;

my ( $bad_expected, $bad_c ) = ( 0, 0 );
for my $m (@msgs) {
    if ( $m->{verdict} ne $m->{expected} ) {
        $bad_expected++;
        print STDERR "PERL MISMATCH $m->{file} [$m->{category}]: expected $m->{expected}, Perl $m->{verdict}\n"
          if $bad_expected <= 10;
    }
    if ( $c_verdicts_path && ( $c_verdict{ $m->{file} } // '' ) ne $m->{verdict} ) {
        $bad_c++;
        printf STDERR "PERL/C DIFFER %s [%s]: Perl %s, C %s\n", $m->{file}, $m->{category}, $m->{verdict},
          $c_verdict{ $m->{file} } // 'missing'
          if $bad_c <= 10;
    }
}
printf "BENCH perl_messages=%d perl_rate=%.2f perl_peak_rss_mb=%.1f perl_mismatches=%d perl_c_differences=%s\n",
  $n, $rate, $peak_kb / 1024, $bad_expected, $c_verdicts_path ? $bad_c : 'n/a';
exit( $bad_expected ? 1 : 0 );
