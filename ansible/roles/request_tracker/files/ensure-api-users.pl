use strict; use warnings;
# Make RT's API service accounts exactly as given: privileged users with no password (they log in only
# with auth tokens, zwvl-rt-token) holding exactly the given global rights. The accounts come as JSON in
# $ZWVL_RT_API_USERS: [{"name": ..., "rights": [...]}]. Prints one line per change ("check": reports).
use JSON::PP; use RT; RT::LoadConfig(); RT::Init();
my $apply = ($ARGV[0] // '') eq 'apply';
my $users = decode_json($ENV{ZWVL_RT_API_USERS} // die "ZWVL_RT_API_USERS is not set\n");
for my $spec (@$users) {
    my $name = $spec->{name};
    my $user = RT::User->new(RT->SystemUser);
    $user->Load($name);
    unless ($user->id) {
        print "created API user $name\n";
        next unless $apply;
        my ($ok, $msg) = $user->Create(
            Name => $name, Privileged => 1, Disabled => 0,
            Comments => 'API service account (auth tokens only, no password)',
        );
        die "$name: $msg\n" unless $ok;
    }
    if ($user->id && !$user->Privileged) {
        print "made $name privileged\n";
        if ($apply) { my ($ok, $msg) = $user->SetPrivileged(1); die "$name: $msg\n" unless $ok; }
    }
    if ($user->id && $user->Disabled) {
        print "enabled $name\n";
        if ($apply) { my ($ok, $msg) = $user->SetDisabled(0); die "$name: $msg\n" unless $ok; }
    }
    my %want = map { $_ => 1 } @{ $spec->{rights} || [] };
    my %have;
    if ($user->id) {
        my $acl = RT::ACL->new(RT->SystemUser);
        $acl->LimitToObject(RT->System);
        $acl->LimitToPrincipal(Id => $user->PrincipalId);
        while (my $ace = $acl->Next) { $have{ $ace->RightName } = 1; }
    }
    for my $right (sort keys %want) {
        next if $have{$right};
        print "granted $right to $name\n";
        next unless $apply;
        my ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
        die "$name $right: $msg\n" unless $ok;
    }
    for my $right (sort keys %have) {
        next if $want{$right};
        print "revoked $right from $name\n";
        next unless $apply;
        my ($ok, $msg) = $user->PrincipalObj->RevokeRight(Right => $right, Object => RT->System);
        die "$name $right: $msg\n" unless $ok;
    }
}
