use strict; use warnings;
# Set an RT user's password from $ZWVL_RT_USER_PASSWORD when it differs; prints "changed" if it did.
use RT; RT::LoadConfig(); RT::Init();
my ($name, $mode) = @ARGV;
my $password = $ENV{ZWVL_RT_USER_PASSWORD} // die "ZWVL_RT_USER_PASSWORD is not set\n";
my $user = RT::User->new(RT->SystemUser);
$user->Load($name) or die "no RT user $name\n";
exit 0 if $user->IsPassword($password);
if (($mode // '') eq 'apply') {
    my ($ok, $msg) = $user->SetPassword($password);
    die "$msg\n" unless $ok;
}
print "changed\n";
