//! ReportService: the CodeArts report, cases, case detail, AW chart and PTS scene stats, each
//! computed by crates/query exactly as for the CLI — for a committed run, or for a run still
//! being written on the samples so far.

use std::sync::Arc;

use loadlake_query::QueryEngine;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::cases::{case_detail, cases};
use loadlake_query::reports::curve::{CurveOptions, curve};
use loadlake_query::reports::jmeter_tables::ApdexThresholds;
use loadlake_query::reports::pts::scene_stats;
use loadlake_query::reports::run_report::{DEFAULT_RANGES, resp_time_ranges};
use loadlake_query::reports::sla::{SlaOutcome, evaluate};
use loadlake_report::html::JmeterSection;
use loadlake_report::job::{ReportRequest, jmeter_section, run_report_job};
use loadlake_schema::RunManifest;
use loadlake_store::now_ms;
use tonic::{Request, Response, Status};

use crate::Shared;
use crate::error::{job_status, query_status, store_status};
use crate::pb::{self, report_service_server::ReportService};

/// Details per page when the caller gives no page size, and the most a page may hold.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

pub(crate) struct Reports {
    shared: Arc<Shared>,
}

impl Reports {
    pub(crate) fn new(shared: Arc<Shared>) -> Reports {
        Reports { shared }
    }

    /// The run, checked against the store (no path tricks get further than this): a committed
    /// run, or one still being written here, reported on the samples written so far.
    fn run(&self, run_id: &str) -> Result<Run, Status> {
        let (manifest, live) = self
            .shared
            .store
            .run_or_live(run_id, now_ms())
            .map_err(|e| store_status(&e))?;
        Ok(Run {
            id: manifest.run_id.to_string(),
            manifest,
            live,
        })
    }
}

impl Reports {
    /// The JMeter-dashboard tables of a run (Statistics, APDEX with JMeter's default
    /// thresholds, Errors, Top 5), as the HTML report computes them.
    pub(crate) async fn jmeter_tables(
        &self,
        run_id: &str,
        method: PercentileMethod,
    ) -> Result<JmeterSection, Status> {
        let run = self.run(run_id)?;
        let shared = &self.shared;
        shared
            .timed(async {
                let engine = run.engine(shared).await?;
                jmeter_section(
                    &engine,
                    &run.id,
                    method,
                    &ApdexThresholds::jmeter_defaults(),
                )
                .await
                .map_err(job_status)
            })
            .await
    }

    /// The server's SLA rules (`loadlake serve --sla FILE`) checked on a run, as `loadlake
    /// report --sla FILE` checks them; None when the server has no rules.
    pub(crate) async fn sla(
        &self,
        run_id: &str,
        method: PercentileMethod,
    ) -> Result<Option<SlaOutcome>, Status> {
        let run = self.run(run_id)?;
        let Some(rules) = self.shared.config.sla_rules.clone() else {
            return Ok(None);
        };
        let shared = &self.shared;
        shared
            .timed(async {
                let engine = run.engine(shared).await?;
                evaluate(&engine, &run.id, &rules, method)
                    .await
                    .map(Some)
                    .map_err(query_status)
            })
            .await
    }
}

/// A run a report is asked for.
struct Run {
    id: String,
    manifest: RunManifest,
    live: bool,
}

impl Run {
    /// A query engine that sees this run's samples (for a live run: the parts written so far).
    async fn engine(&self, shared: &Shared) -> Result<QueryEngine, Status> {
        let engine = shared.engine().await?;
        if self.live {
            engine.include_live_runs().await.map_err(query_status)?;
        }
        Ok(engine)
    }
}

/// `percentile_method` of a request (empty = nearest-rank).
pub(crate) fn method(name: &str) -> Result<PercentileMethod, Status> {
    match name.parse() {
        Ok(PercentileMethod::Legacy) | Err(_) => Err(Status::invalid_argument(format!(
            "percentile_method '{name}': use nearest-rank, linear or jmeter-aggregate"
        ))),
        Ok(m) => Ok(m),
    }
}

/// A 1 s curve limited to `limit` points (0 = no limit).
fn curve_options(
    limit: i32,
    case: Option<String>,
    request: Option<String>,
    method: PercentileMethod,
) -> Result<CurveOptions, Status> {
    if limit < 0 {
        return Err(Status::invalid_argument(
            "brokens_limit_count must be 0 or more",
        ));
    }
    Ok(CurveOptions {
        interval_ms: 1000,
        max_points: (limit > 0).then_some(limit as usize),
        case,
        request,
        method,
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[tonic::async_trait]
impl ReportService for Reports {
    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::ReportInfo>, Status> {
        let r = request.into_inner();
        let run = self.run(&r.run_id)?;
        let run_id = run.id.clone();
        let method = method(&r.percentile_method)?;
        let (page_index, page_size) = match (r.page_index, r.page_size) {
            (i, s) if i < 0 || s < 0 => {
                return Err(Status::invalid_argument(
                    "page_index and page_size must be >= 0",
                ));
            }
            (i, s) => (
                (i.max(1) - 1) as usize,
                if s == 0 {
                    DEFAULT_PAGE
                } else {
                    (s as usize).min(MAX_PAGE)
                },
            ),
        };
        let micros = micros(&r.resolution)?;
        let mut job = ReportRequest::new(method);
        job.curve = Some(curve_options(
            r.brokens_limit_count,
            non_empty(&r.case_name),
            None,
            method,
        )?);
        let shared = &self.shared;
        let out = shared
            .timed(async {
                let engine = in_unit(run.engine(shared).await?, micros).await?;
                run_report_job(&engine, &run.manifest, &job)
                    .await
                    .map_err(job_status)
            })
            .await?;
        let (report, Some(brokens)) = (out.report, out.curve) else {
            return Err(Status::internal("the report job computed no curve"));
        };
        let manifest = run.manifest;
        let details: Vec<&_> = report
            .details
            .iter()
            .filter(|d| r.case_name.is_empty() || d.case_name == r.case_name)
            .collect();
        Ok(Response::new(pb::ReportInfo {
            run_id: run_id.clone(),
            outline: Some((&report.outline).into()),
            details_total: details.len() as u64,
            details: details
                .into_iter()
                .skip(page_index * page_size)
                .take(page_size)
                .map(Into::into)
                .collect(),
            brokens: Some((&brokens).into()),
            resp_time_range: report.resp_time_range.iter().map(Into::into).collect(),
            error_classes: report.error_classes.iter().map(Into::into).collect(),
            task_info: Some(pb::TaskInfo {
                run_id,
                name: manifest.name,
                vum: report.outline.vum,
            }),
            time_unit: report.time_unit.as_str().into(),
        }))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let run = self.run(&request.into_inner().run_id)?;
        let run_id = run.id.clone();
        let shared = &self.shared;
        let list = shared
            .timed(async {
                let engine = run.engine(shared).await?;
                cases(&engine, &run_id).await.map_err(query_status)
            })
            .await?;
        Ok(Response::new(pb::ListCasesResponse {
            case_aw_info_list: list.iter().map(Into::into).collect(),
        }))
    }

    async fn get_case_detail(
        &self,
        request: Request<pb::GetCaseDetailRequest>,
    ) -> Result<Response<pb::CaseReportDetail>, Status> {
        let r = request.into_inner();
        let run = self.run(&r.run_id)?;
        let run_id = run.id.clone();
        let method = method(&r.percentile_method)?;
        let micros = micros(&r.resolution)?;
        let shared = &self.shared;
        let detail = shared
            .timed(async {
                let engine = in_unit(run.engine(shared).await?, micros).await?;
                case_detail(&engine, &run_id, &r.case_id, method)
                    .await
                    .map_err(query_status)
            })
            .await?;
        match detail {
            Some(d) => Ok(Response::new((&d).into())),
            None => Err(Status::not_found(format!(
                "run {run_id} has no case '{}' (see ListCases)",
                r.case_id
            ))),
        }
    }

    async fn get_aw_chart(
        &self,
        request: Request<pb::GetAwChartRequest>,
    ) -> Result<Response<pb::AwChart>, Status> {
        let r = request.into_inner();
        let run = self.run(&r.run_id)?;
        let run_id = run.id.clone();
        let method = method(&r.percentile_method)?;
        let micros = micros(&r.resolution)?;
        let shared = &self.shared;
        let (broken_list, ranges) = shared
            .timed(async {
                let engine = in_unit(run.engine(shared).await?, micros).await?;
                // The cases (a scan of the run) only to find the case asked for: the whole
                // run's curve, what a run page draws first, does without them.
                let list = match r.case_id.as_str() {
                    "" => Vec::new(),
                    _ => cases(&engine, &run_id).await.map_err(query_status)?,
                };
                let case = match r.case_id.as_str() {
                    "" => None,
                    id => Some(
                        list.iter()
                            .find(|c| c.case_id.to_string() == id || c.case_name == id)
                            .ok_or_else(|| {
                                Status::not_found(format!("run {run_id} has no case '{id}'"))
                            })?,
                    ),
                };
                let request = match (r.detail_id.as_str(), case) {
                    ("", _) => None,
                    (id, Some(c)) => Some(
                        c.requests
                            .iter()
                            .chain(&c.transactions)
                            .find(|i| i.detail_id == id || i.name == id)
                            .map(|i| i.name.clone())
                            .ok_or_else(|| {
                                Status::not_found(format!(
                                    "case '{}' has no request '{id}'",
                                    c.case_name
                                ))
                            })?,
                    ),
                    (id, None) => Some(id.to_string()),
                };
                let case_name = case.map(|c| c.case_name.clone());
                let options = curve_options(
                    r.brokens_limit_count,
                    case_name.clone(),
                    request.clone(),
                    method,
                )?;
                let broken = curve(&engine, &run_id, &options)
                    .await
                    .map_err(query_status)?;
                let ranges = if r.curve_only {
                    Vec::new()
                } else {
                    resp_time_ranges(
                        &engine,
                        &run_id,
                        &DEFAULT_RANGES,
                        case_name.as_deref(),
                        request.as_deref(),
                    )
                    .await
                    .map_err(query_status)?
                };
                Ok((broken, ranges))
            })
            .await?;
        Ok(Response::new(pb::AwChart {
            broken_list: Some((&broken_list).into()),
            resp_time_range: ranges.iter().map(Into::into).collect(),
            time_unit: unit_name(micros).into(),
        }))
    }

    async fn get_scene_stats(
        &self,
        request: Request<pb::GetSceneStatsRequest>,
    ) -> Result<Response<pb::SceneStats>, Status> {
        let r = request.into_inner();
        let run = self.run(&r.run_id)?;
        let run_id = run.id.clone();
        let method = method(&r.percentile_method)?;
        let micros = micros(&r.resolution)?;
        let shared = &self.shared;
        let stats = shared
            .timed(async {
                let engine = in_unit(run.engine(shared).await?, micros).await?;
                scene_stats(&engine, &run_id, method)
                    .await
                    .map_err(query_status)
            })
            .await?;
        Ok(Response::new(pb::SceneStats {
            all_sample_stat: stats.all.as_ref().map(Into::into),
            sample_stat_list: stats.samplers.iter().map(Into::into).collect(),
            time_unit: stats.time_unit.as_str().into(),
        }))
    }
}

/// Whether a request's `resolution` (`""` or `ms`, or `us`) asks for microseconds.
pub(crate) fn micros(resolution: &str) -> Result<bool, Status> {
    match resolution {
        "" | "ms" => Ok(false),
        "us" => Ok(true),
        other => Err(Status::invalid_argument(format!(
            "resolution '{other}': use ms or us"
        ))),
    }
}

/// `engine`, reading µs when `micros` ([`QueryEngine::use_microseconds`]).
pub(crate) async fn in_unit(engine: QueryEngine, micros: bool) -> Result<QueryEngine, Status> {
    if micros {
        engine.use_microseconds().await.map_err(query_status)?;
    }
    Ok(engine)
}

/// The `time_unit` of a response: `us` or `ms`.
fn unit_name(micros: bool) -> &'static str {
    if micros { "us" } else { "ms" }
}
