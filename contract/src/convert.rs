//! Conversions between these types and one side's generated bindings, declared field
//! by field and case by case. Each side lists its records and variants once with
//! [`record!`](crate::record) and [`variant!`](crate::variant); a struct literal and a
//! `match` without a wildcard are what make a missed field or case a compile error.

/// A value of one side of the contract as the other side's type.
pub trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => { $(impl Convert<$t> for $t { fn convert(self) -> $t { self } })* };
}
same!(String, bool, f64, u64, u8, u16, u32, i32, ());

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B, E: Convert<F>, F> Convert<Result<B, F>> for Result<A, E> {
    fn convert(self) -> Result<B, F> {
        self.map(Convert::convert).map_err(Convert::convert)
    }
}

impl<A: Convert<B>, B, C: Convert<D>, D> Convert<(B, D)> for (A, C) {
    fn convert(self) -> (B, D) {
        (self.0.convert(), self.1.convert())
    }
}

/// A record, field by field, both ways: `record!(Name = module::Name { a, b })`
/// converts `contract::Name` and the generated `module::Name`.
#[macro_export]
macro_rules! record {
    ($name:ident = $wm:ident :: $wt:ident { $($field:ident),* $(,)? }) => {
        impl $crate::Convert<$crate::$name> for $wm::$wt {
            fn convert(self) -> $crate::$name {
                $crate::$name { $($field: $crate::Convert::convert(self.$field)),* }
            }
        }
        impl $crate::Convert<$wm::$wt> for $crate::$name {
            fn convert(self) -> $wm::$wt {
                $wm::$wt { $($field: $crate::Convert::convert(self.$field)),* }
            }
        }
    };
}

/// WIT flags, flag by flag, both ways, as a struct of booleans. (A flag added to the
/// WIT but not here is not a compile error on the generated side: the contract's
/// struct gets the field first, which every side's list must then name.)
#[macro_export]
macro_rules! flags {
    ($name:ident = $wm:ident :: $wt:ident { $($field:ident = $flag:ident),* $(,)? }) => {
        impl $crate::Convert<$crate::$name> for $wm::$wt {
            fn convert(self) -> $crate::$name {
                $crate::$name { $($field: self.contains($wm::$wt::$flag)),* }
            }
        }
        impl $crate::Convert<$wm::$wt> for $crate::$name {
            fn convert(self) -> $wm::$wt {
                let mut flags = $wm::$wt::empty();
                $(if self.$field { flags |= $wm::$wt::$flag; })*
                flags
            }
        }
    };
}

/// An enum or a variant, case by case (with its payload, if any), both ways.
#[macro_export]
macro_rules! variant {
    ($name:ident = $wm:ident :: $wt:ident { $($case:ident $(($p:ident))?),* $(,)? }) => {
        impl $crate::Convert<$crate::$name> for $wm::$wt {
            fn convert(self) -> $crate::$name {
                match self { $($wm::$wt::$case $(($p))? => $crate::$name::$case $(($crate::Convert::convert($p)))?),* }
            }
        }
        impl $crate::Convert<$wm::$wt> for $crate::$name {
            fn convert(self) -> $wm::$wt {
                match self { $($crate::$name::$case $(($p))? => $wm::$wt::$case $(($crate::Convert::convert($p)))?),* }
            }
        }
    };
}

/// Every record and variant of the WIT, for one side: expanded where that side's
/// generated modules `types`, `durability`, `follow`, `health`, `membership`,
/// `metrics`, `replication`, `restore` and `lease` are in scope (the guest's and the host's
/// `conversions.rs`), so the list is written once for both.
#[macro_export]
macro_rules! conversions {
    () => {
        $crate::record!(Database = types::Database { name, path, directory, plugin_config });
        $crate::record!(Credentials = types::Credentials { access_key_id, secret_access_key, session_token });
        $crate::record!(
            Request = types::Request { top_level, databases, working_directory, litestream_version, control_socket }
        );
        $crate::variant!(LitestreamLine = types::LitestreamLine { V03, V05 });
        $crate::variant!(CredentialsSource = types::CredentialsSource { None, File(x), Command(x) });
        $crate::record!(
            Plan = types::Plan {
                replicated,
                start_litestream,
                credentials_source,
                refresh_interval_seconds,
                metrics_addr,
                line,
                warnings,
                first_sync_seconds,
                health_window_seconds,
                stop_grace_seconds,
                durable,
                lease
            }
        );
        $crate::record!(DurableDatabase = types::DurableDatabase { name, timeout_seconds });
        $crate::record!(
            LeaseSettings = types::LeaseSettings {
                ttl_seconds,
                renew_seconds,
                margin_seconds,
                grace_seconds,
                poll_seconds,
                owner
            }
        );
        $crate::record!(
            S3Place = lease::S3Place {
                bucket,
                key,
                endpoint,
                region,
                path_style,
                skip_verify,
                access_key_id,
                secret_access_key,
                session_token
            }
        );
        $crate::variant!(LockPlace = lease::LockPlace { S3(x), File(x) });
        $crate::record!(LeaseTarget = lease::LeaseTarget { path, place });
        $crate::record!(Lock = lease::Lock { generation, expires_at, owner });
        $crate::variant!(LockSeen = lease::LockSeen { Absent, Present(x) });
        $crate::record!(Take = lease::Take { if_match, body, lock });
        $crate::variant!(Sight = lease::Sight { Free(x), Held(x), Unreadable(x) });
        $crate::variant!(WriteOutcome = lease::WriteOutcome { Written, Absent, Precondition, Conflict, Failed });
        $crate::variant!(LeaseRole = lease::LeaseRole { Starting, Primary, Standby, Fenced, Released });
        $crate::variant!(RenewalVerdict = lease::RenewalVerdict { Renewed(x), Retry, Lost(x) });
        $crate::record!(
            DurabilityEvidence =
                health::DurabilityEvidence { name, waiting, longest_wait_seconds, timeout_seconds, failing }
        );
        $crate::record!(SyncAnswer = durability::SyncAnswer { status, body });
        $crate::variant!(SyncOutcome = durability::SyncOutcome { Durable(x), NotDurable(x) });
        $crate::record!(ConfigError = types::ConfigError { database, key, problem, hint });
        $crate::record!(EnvVar = types::EnvVar { name, value });
        $crate::record!(ReplicaCount = types::ReplicaCount { path, replicas });
        $crate::variant!(StartupProof = types::StartupProof { ControlSocket, Replicas(x) });
        $crate::record!(Rendered = types::Rendered { document, environment, secrets, startup });
        $crate::record!(Configured = types::Configured { plan, rendered });
        $crate::variant!(CredentialsError = types::CredentialsError { NotJson(x), NotAnObject, MissingKey(x), WrongType(x) });
        $crate::flags!(
            CredentialFields = types::CredentialFields {
                access_key_id = ACCESS_KEY_ID,
                secret_access_key = SECRET_ACCESS_KEY,
                session_token = SESSION_TOKEN
            }
        );
        $crate::record!(CredentialsChange = types::CredentialsChange { changed, fields });
        $crate::record!(Operation = metrics::Operation { replica_type, operation, value });
        $crate::record!(NamedValue = metrics::NamedValue { name, replica, status, value });
        $crate::record!(DatabaseMetrics = metrics::DatabaseMetrics { database, values });
        $crate::record!(Digest = metrics::Digest { goroutines, threads, operation_bytes, operation_counts, databases });
        $crate::record!(LogEntry = health::LogEntry { age_seconds, text });
        $crate::record!(DatabaseEvidence = health::DatabaseEvidence { name, path, file_exists });
        $crate::variant!(
            ProcessState =
                health::ProcessState { Starting, Running, Restarting, Stopping, Stopped, Failed, NotStarted }
        );
        $crate::record!(
            HealthInput =
                health::HealthInput { state, uptime_seconds, databases, logs, window_seconds, durability, conflicts }
        );
        $crate::record!(Conflict = health::Conflict { name, reason });
        $crate::record!(LocalFile = replication::LocalFile { name, size });
        $crate::record!(WritersEvidence = replication::WritersEvidence { listing, local_files, generation });
        $crate::variant!(WritersVerdict = replication::WritersVerdict { Alone, AnotherWriter(x), Unknown(x) });
        $crate::record!(Behind = health::Behind { database, why });
        $crate::record!(Verdict = health::Verdict { ok, reason, behind });
        $crate::record!(StopEvidence = health::StopEvidence { running, exit_code, interrupted, killed, output, databases });
        $crate::record!(Unconfirmed = health::Unconfirmed { name, reason });
        $crate::variant!(Startup = health::Startup { Waiting, Replicating, SocketListening });
        $crate::record!(EvidencePaths = replication::EvidencePaths { position_source, shadow_directory, wal_index });
        $crate::variant!(Position = replication::Position { Txid(x), Wal(x) });
        $crate::record!(WalPosition = replication::WalPosition { generation, index, offset });
        $crate::record!(PendingChange = replication::PendingChange { position, since });
        $crate::record!(LagState = replication::LagState { pending, replica, replicated_at, unknown_since });
        $crate::record!(FileHead = replication::FileHead { name, head });
        $crate::variant!(LocalFiles = replication::LocalFiles { Ltx(x), Shadow(x) });
        $crate::record!(ShadowFiles = replication::ShadowFiles { generation, newest_file, newest_size });
        $crate::record!(Observation = replication::Observation { name, path, state, files, wal_index, socket });
        $crate::variant!(ReplicationState = replication::ReplicationState { CaughtUp, Behind, Unknown });
        $crate::record!(
            LagReport = replication::LagReport {
                name,
                state,
                lag_seconds,
                local,
                replica,
                behind_by,
                replicated_at,
                unknown_since,
                observed_at,
                reason
            }
        );
        $crate::record!(Tracked = replication::Tracked { report, state });
        $crate::record!(Admission = membership::Admission { databases, plan, refused, rendered });
        $crate::record!(Registration = membership::Registration { path, replica_url });
        $crate::record!(InPlaceChange = membership::InPlaceChange { unregister, register });
        $crate::variant!(Change = membership::Change { Unchanged, Start, Stop, InPlace(x), Restart(x) });
        $crate::record!(Target = restore::Target { name, exists });
        $crate::variant!(Step = restore::Step { Restore, Skip(x) });
        $crate::record!(Decision = restore::Decision { database, step });
        $crate::record!(RestoreOptions = restore::RestoreOptions { force, only_missing });
        $crate::variant!(EmptyReplicaOutcome = restore::EmptyReplicaOutcome { FreshStart, Error });
        $crate::record!(EmptyReplicaVerdict = restore::EmptyReplicaVerdict { outcome, message });
        $crate::record!(
            VerifyEvidence = restore::VerifyEvidence {
                sentinel_error,
                restored,
                restore_error,
                integrity_ok,
                sentinel_found,
                timed_out,
                waited_seconds
            }
        );
        $crate::variant!(VerifyOutcome = restore::VerifyOutcome { Verified, Failed, Inconclusive, Pending });
        $crate::record!(VerifyVerdict = restore::VerifyVerdict { outcome, reason });
        $crate::record!(LastVerification = restore::LastVerification { database, outcome, age_seconds });
        $crate::record!(FollowTarget = follow::FollowTarget { name, path, replica });
        $crate::variant!(FollowEvent = follow::FollowEvent { Following(x), Applied(x), Failed(x), Stopped, EmptyReplica, Other });
        $crate::record!(FollowerMemory = follow::FollowerMemory { confirmed_at, txid, since, listings });
        $crate::record!(
            FollowerLook =
                follow::FollowerLook { name, now, listed_at, replica, follower, memory, stuck_after_seconds }
        );
        $crate::record!(
            FollowerReport = follow::FollowerReport {
                name,
                state,
                staleness_seconds,
                follower_txid,
                replica_txid,
                confirmed_at,
                reason,
                restore_again,
                memory
            }
        );
    };
}
