//! The guest's side of the contract: each WIT record and variant converted to and
//! from the `contract` crate's plain type, once. One that misses a field or a case
//! does not compile.

use super::wit::datasette::litestream::types;
use super::wit::exports::datasette::litestream::{
    durability, follow, health, membership, metrics, replication, restore,
};
use contract::{record, variant};

record!(Database = types::Database { name, path, directory, plugin_config });
record!(Credentials = types::Credentials { access_key_id, secret_access_key, session_token });
record!(
    Request = types::Request { top_level, databases, working_directory, litestream_version, control_socket }
);
variant!(LitestreamLine = types::LitestreamLine { V03, V05 });
variant!(CredentialsSource = types::CredentialsSource { None, File(x), Command(x) });
record!(
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
        durable
    }
);
record!(DurableDatabase = types::DurableDatabase { name, timeout_seconds });
record!(
    DurabilityEvidence =
        health::DurabilityEvidence { name, waiting, longest_wait_seconds, timeout_seconds, failing }
);
record!(SyncAnswer = durability::SyncAnswer { status, body });
variant!(SyncOutcome = durability::SyncOutcome { Durable(x), NotDurable(x) });
record!(ConfigError = types::ConfigError { database, key, problem, hint });
record!(EnvVar = types::EnvVar { name, value });
record!(Rendered = types::Rendered { document, environment, secrets });
variant!(CredentialsError = types::CredentialsError { NotJson(x), NotAnObject, MissingKey(x), WrongType(x) });
record!(CredentialsChange = types::CredentialsChange { changed, fields });
record!(Operation = metrics::Operation { replica_type, operation, value });
record!(NamedValue = metrics::NamedValue { name, value });
record!(DatabaseMetrics = metrics::DatabaseMetrics { database, values });
record!(Digest = metrics::Digest { goroutines, threads, operation_bytes, operation_counts, databases });
record!(LogEntry = health::LogEntry { age_seconds, text });
record!(DatabaseEvidence = health::DatabaseEvidence { name, path, file_exists });
variant!(
    ProcessState =
        health::ProcessState { Starting, Running, Restarting, Stopping, Stopped, Failed, NotStarted }
);
record!(
    HealthInput =
        health::HealthInput { state, uptime_seconds, databases, logs, window_seconds, durability, conflicts }
);
record!(Conflict = health::Conflict { name, reason });
record!(LocalFile = replication::LocalFile { name, size });
record!(WritersEvidence = replication::WritersEvidence { listing, local_files, generation });
variant!(WritersVerdict = replication::WritersVerdict { Alone, AnotherWriter(x), Unknown(x) });
record!(Verdict = health::Verdict { ok, reason, behind });
record!(StopEvidence = health::StopEvidence { running, exit_code, interrupted, killed, output, databases });
record!(Unconfirmed = health::Unconfirmed { name, reason });
variant!(Startup = health::Startup { Waiting, Replicating, SocketListening });
record!(EvidencePaths = replication::EvidencePaths { position_source, shadow_directory, wal_index });
record!(Position = replication::Position { generation, index, offset });
record!(PendingChange = replication::PendingChange { position, since });
record!(LagState = replication::LagState { pending, replica, replicated_at, unknown_since });
record!(LocalFiles = replication::LocalFiles { newest_file, newest_size, generation, wal_index });
record!(Observation = replication::Observation { name, path, state, files, socket });
variant!(ReplicationState = replication::ReplicationState { CaughtUp, Behind, Unknown });
record!(
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
record!(Tracked = replication::Tracked { report, state });
record!(Admission = membership::Admission { databases, plan, refused });
record!(Registration = membership::Registration { path, replica_url });
record!(InPlaceChange = membership::InPlaceChange { unregister, register });
variant!(Change = membership::Change { Unchanged, Start, Stop, InPlace(x), Restart(x) });
record!(Target = restore::Target { name, exists });
variant!(Step = restore::Step { Restore, Skip(x) });
record!(Decision = restore::Decision { database, step });
record!(RestoreOptions = restore::RestoreOptions { force, only_missing });
variant!(EmptyReplicaOutcome = restore::EmptyReplicaOutcome { FreshStart, Error });
record!(EmptyReplicaVerdict = restore::EmptyReplicaVerdict { outcome, message });
record!(
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
variant!(VerifyOutcome = restore::VerifyOutcome { Verified, Failed, Inconclusive, Pending });
record!(VerifyVerdict = restore::VerifyVerdict { outcome, reason });
record!(LastVerification = restore::LastVerification { database, outcome, age_seconds });
record!(FollowTarget = follow::FollowTarget { name, path, replica });
variant!(FollowEvent = follow::FollowEvent { Following(x), Applied(x), Failed(x), Stopped, EmptyReplica, Other });
record!(FollowerMemory = follow::FollowerMemory { confirmed_at, txid, since, listings });
record!(
    FollowerLook =
        follow::FollowerLook { name, now, listed_at, replica, follower, memory, stuck_after_seconds }
);
variant!(FollowerState = follow::FollowerState { CaughtUp, Behind, Unknown });
record!(
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
