"""What the tests share: fakes of the servers AimTrack talks to, drivers, factories and runners.
Test modules import from here, never from one another."""
