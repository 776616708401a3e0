//! Durations and outcomes of finished jobs and steps, grouped the ways a team watches
//! them: per pipeline, per framework, per step. Read through the client role, so each
//! person sees their own.

use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Group {
    /// The pipeline, framework or step name.
    pub name: String,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Seconds.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
}

impl Group {
    pub fn success_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.succeeded as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub since_hours: f64,
    pub pipelines: Vec<Group>,
    pub frameworks: Vec<Group>,
    pub steps: Vec<Group>,
}

/// Finished jobs and steps of the last `since_hours` hours.
pub async fn collect(conn: &mut PgConnection, since_hours: f64) -> Result<Stats, sqlx::Error> {
    const OUTCOMES: &str = "count(*) AS total,
        count(*) FILTER (WHERE s = 'succeeded') AS succeeded,
        count(*) FILTER (WHERE s = 'failed') AS failed,
        count(*) FILTER (WHERE s = 'cancelled') AS cancelled,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) AS p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY secs) AS p95";
    let window = "now() - make_interval(secs => $1 * 3600)";
    let jobs = format!(
        "SELECT j.kind AS name, j.state AS s, coalesce(p.framework, j.input->>'framework', 'unknown') AS framework,
                extract(epoch FROM j.finished_at - coalesce(j.started_at, j.created_at))::float8 AS secs
         FROM jobs j LEFT JOIN projects p ON p.id = j.project_id
         WHERE j.finished_at IS NOT NULL AND j.finished_at > {window}"
    );
    let pipelines = sqlx::query_as::<_, Group>(sqlx::AssertSqlSafe(format!(
        "SELECT name, {OUTCOMES} FROM ({jobs}) x GROUP BY name ORDER BY name"
    )))
    .bind(since_hours)
    .fetch_all(&mut *conn)
    .await?;
    let frameworks = sqlx::query_as::<_, Group>(sqlx::AssertSqlSafe(format!(
        "SELECT framework AS name, {OUTCOMES} FROM ({jobs}) x GROUP BY framework ORDER BY framework"
    )))
    .bind(since_hours)
    .fetch_all(&mut *conn)
    .await?;
    let steps = sqlx::query_as::<_, Group>(sqlx::AssertSqlSafe(format!(
        "SELECT name, {OUTCOMES} FROM (
             SELECT name, state AS s, extract(epoch FROM finished_at - started_at)::float8 AS secs
             FROM job_steps WHERE finished_at IS NOT NULL AND finished_at > {window}) x
         GROUP BY name ORDER BY name"
    )))
    .bind(since_hours)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Stats {
        since_hours,
        pipelines,
        frameworks,
        steps,
    })
}

/// `7d`, `24h`, `90m` → hours.
pub fn parse_period(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.')?);
    let n: f64 = number.parse().ok().filter(|n: &f64| *n > 0.0)?;
    match unit {
        "m" | "min" => Some(n / 60.0),
        "h" => Some(n),
        "d" => Some(n * 24.0),
        "w" => Some(n * 24.0 * 7.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_period;

    #[test]
    fn periods() {
        assert_eq!(parse_period("7d"), Some(168.0));
        assert_eq!(parse_period("24h"), Some(24.0));
        assert_eq!(parse_period("90m"), Some(1.5));
        assert_eq!(parse_period("2w"), Some(336.0));
        assert_eq!(parse_period("7"), None);
        assert_eq!(parse_period("0d"), None);
        assert_eq!(parse_period("d"), None);
    }
}
