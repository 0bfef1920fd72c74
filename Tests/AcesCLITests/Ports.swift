import AcesDevTools

/// A base port with `count` free ports above it on loopback, for `aces federation create --base-port`.
func freeBasePort(_ count: Int = 4) -> Int { LocalFederation.freeBasePort(count) }
