#!/usr/bin/perl
# mirror.flip — a farm plugin (protocol v1) in Perl, written from docs/plugins.md alone.
# One JSON object per line in and out; standard output only for protocol lines; logs on stderr.
use strict;
use warnings;
use JSON::PP;
use File::Spec;

$| = 1;    # flush standard output after every line
my $json = JSON::PP->new->utf8->canonical;

sub reply { print $json->encode($_[0]), "\n" }
sub logline { print STDERR "mirror: $_[0]\n" }

while (my $line = <STDIN>) {    # end of input means shutdown
    next unless $line =~ /\S/;
    my $msg  = $json->decode($line);
    my $type = $msg->{type};
    if ($type eq 'hello') {
        unless (grep { $_ == 1 } @{ $msg->{protocols} }) {
            logline("farm does not offer protocol 1");
            exit 1;
        }
        reply({ type => 'hello', protocol => 1, name => 'mirror', version => '1.0.0', stages => ['flip'] });
    }
    elsif ($type eq 'run') {
        my $id     = $msg->{id};
        my $filter = $msg->{params}{direction} eq 'vertical' ? 'vflip' : 'hflip';
        my $out    = File::Spec->catfile($msg->{output_dir}, 'mirrored.mp4');
        logline("run $id: $filter");
        reply({ type => 'progress', id => $id, fraction => 0, message => "flipping ($filter)" });
        my @argv = ('ffmpeg', '-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', $msg->{inputs}{video},
                    '-vf', $filter, '-map', '0:v:0', '-map', '0:a?', '-c:v', 'libx264', '-preset', 'veryfast',
                    '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-f', 'mp4', $out);
        my $pid = fork();
        if (defined $pid && $pid == 0) {
            open(STDOUT, '>&', \*STDERR);    # nothing of ffmpeg's may reach farm's protocol pipe
            exec { $argv[0] } @argv;
            exit 127;
        }
        waitpid($pid, 0);
        my $status = $? >> 8;
        if ($? == 0 && -s $out) {
            reply({ type => 'result', id => $id, outputs => { video => $out }, metadata => { filter => $filter } });
        }
        else {
            reply({ type => 'error', id => $id, message => "ffmpeg failed with exit status $status",
                    hint => "ffmpeg's message is in the stage's log" });
        }
    }
    elsif ($type eq 'shutdown') {
        last;
    }
    # cancel: this plugin does one run at a time and cannot stop it; farm stops the process if needed.
}
exit 0;
