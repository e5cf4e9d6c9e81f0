//! Mapping re-evaluation jobs: after a mapping change, every SCIM user of the customer is
//! placed again by the new mappings, in the background, one batch per write transaction. SCIM
//! writes take the writer between batches, so they are never held up for long, and a batch is
//! written only if what it was decided on is still current in its own write transaction, so
//! nothing a SCIM write committed is overwritten by a stale evaluation.

use std::time::{Duration, Instant};

use crate::db;

/// Users placed per write transaction: small enough that a SCIM write waits a few
/// milliseconds at most, large enough that a big customer finishes in seconds.
pub const BATCH_USERS: i64 = 500;

/// Runs the job to its end in the background.
pub fn spawn(pool: db::Pool, job_id: i64) {
    tokio::spawn(async move {
        if let Err(error) = run(&pool, job_id).await {
            tracing::error!(job_id, %error, "mapping re-evaluation stopped; it resumes at the next start");
        }
    });
}

/// Runs the job batch by batch until it has evaluated every user or a newer job took over.
/// Each batch is decided from a read snapshot outside the writers' turn and written in a
/// write transaction that first checks nothing it was decided on changed (else decides again
/// there), so the writer is held only for the writes.
pub async fn run(pool: &db::Pool, job_id: i64) -> Result<(), sqlx::Error> {
    let Some(lease) = db::mappings::lease_job(pool, job_id).await? else {
        tracing::info!(job_id, "mapping re-evaluation runs on another instance");
        return Ok(());
    };
    run_batches(pool, job_id).await?;
    lease.release(job_id).await
}

async fn run_batches(pool: &db::Pool, job_id: i64) -> Result<(), sqlx::Error> {
    loop {
        let planned = {
            let mut snapshot = db::read_transaction(pool).await?;
            let planned = db::mappings::plan_job_batch(&mut snapshot, job_id, BATCH_USERS).await?;
            snapshot.commit().await?;
            planned
        };
        let Some(planned) = planned else {
            return Ok(());
        };
        let started = Instant::now();
        let mut tx = db::write_transaction(pool).await?;
        let more = db::mappings::write_job_batch(&mut tx, job_id, planned, BATCH_USERS).await?;
        tx.commit().await?;
        if !more {
            return Ok(());
        }
        // Writers queued for the turn get it next; a pause of a quarter of the write's time
        // (and the next batch's reading, which holds no lock) also lets in single-statement
        // writes, which wait in SQLite's busy handler instead.
        tokio::time::sleep((started.elapsed() / 4).max(Duration::from_millis(1))).await;
    }
}

/// Resumes the jobs a stopped server left running (each from the last user it evaluated).
pub async fn resume(pool: &db::Pool) -> Result<usize, sqlx::Error> {
    let running = db::mappings::running_jobs(pool).await?;
    for &job_id in &running {
        spawn(pool.clone(), job_id);
    }
    Ok(running.len())
}
