use strict; use warnings;
use RT; RT::LoadConfig(); RT::Init();
my $apply = ($ARGV[0] // '') eq 'apply';
my $queues = RT::Queues->new(RT->SystemUser);
$queues->UnLimit;
while (my $queue = $queues->Next) {
    next unless $queue->SLADisabled;
    next if $queue->Name eq '___Approvals';
    $queue->SetSLADisabled(0) if $apply;
    print "SLA enabled on queue ", $queue->Name, "\n";
}
