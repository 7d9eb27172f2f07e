//! crates/query's report structs → protobuf messages, field for field (same names in
//! snake_case), so gRPC answers equal the CLI's JSON.

use loadlake_query::reports::{cases, curve, pts, run_report};

use crate::pb;

impl From<&run_report::Outline> for pb::Outline {
    fn from(o: &run_report::Outline) -> Self {
        pb::Outline {
            start_time: o.start_time,
            end_time: o.end_time,
            duration: o.duration,
            max_users: o.max_users,
            requests: o.requests,
            tps: o.tps,
            success_rate: o.success_rate,
            average_resp_time: o.average_resp_time,
            total_cases: o.total_cases,
            executed_cases: o.executed_cases,
            pass_cases: o.pass_cases,
            vum: o.vum,
        }
    }
}

impl From<&run_report::DetailData> for pb::DetailData {
    fn from(d: &run_report::DetailData) -> Self {
        pb::DetailData {
            level: d.level.clone(),
            case_name: d.case_name.clone(),
            name: d.name.clone(),
            requests: d.requests,
            success_count: d.success_count,
            error_count: d.error_count,
            failed_assert: d.failed_assert,
            failed_timeout: d.failed_timeout,
            failed_refused: d.failed_refused,
            failed_parsed: d.failed_parsed,
            failed_others: d.failed_others,
            success_rate: d.success_rate,
            average_resp_time: d.average_resp_time,
            min: d.min,
            max: d.max,
            tp50: d.tp50,
            tp75: d.tp75,
            tp85: d.tp85,
            tp90: d.tp90,
            tp95: d.tp95,
            tp99: d.tp99,
            tp999: d.tp999,
            tp9999: d.tp9999,
            tps: d.tps,
            transactions: d.transactions,
            tran_tps: d.tran_tps,
            avg_rec_bytes: d.avg_rec_bytes,
            max_rec_bytes: d.max_rec_bytes,
            avg_sent_bytes: d.avg_sent_bytes,
            max_sent_bytes: d.max_sent_bytes,
            avg_network_traffic: d.avg_network_traffic,
            max_network_traffic: d.max_network_traffic,
            sum1xx: d.sum1xx,
            sum2xx: d.sum2xx,
            sum3xx: d.sum3xx,
            sum4xx: d.sum4xx,
            sum5xx: d.sum5xx,
            current_thread_num: d.current_thread_num,
            start_time: d.start_time,
            end_time: d.end_time,
        }
    }
}

impl From<&run_report::RespTimeRange> for pb::RespTimeRange {
    fn from(r: &run_report::RespTimeRange) -> Self {
        pb::RespTimeRange {
            range: r.range.clone(),
            from_ms: r.from_ms,
            to_ms: r.to_ms,
            count: r.count,
            percent: r.percent,
        }
    }
}

impl From<&run_report::ErrorClassCount> for pb::ErrorClassCount {
    fn from(e: &run_report::ErrorClassCount) -> Self {
        pb::ErrorClassCount {
            error_class: e.error_class.clone(),
            samples: e.samples,
        }
    }
}

impl From<&curve::Curve> for pb::Curve {
    fn from(c: &curve::Curve) -> Self {
        pb::Curve {
            interval_ms: c.interval_ms,
            points: c
                .points
                .iter()
                .map(|p| pb::CurvePoint {
                    t: p.t,
                    requests: p.requests,
                    tps: p.tps,
                    success: p.success,
                    error: p.error,
                    timeout: p.timeout,
                    refused_failed: p.refused_failed,
                    parsed_failed: p.parsed_failed,
                    check_point_failed: p.check_point_failed,
                    others_failed: p.others_failed,
                    avg_rt: p.avg_rt,
                    p50: p.p50,
                    p90: p.p90,
                    p95: p.p95,
                    p99: p.p99,
                    vusers: p.vusers,
                    rec_bytes: p.rec_bytes,
                    sent_bytes: p.sent_bytes,
                })
                .collect(),
        }
    }
}

fn items(items: &[cases::CaseItem]) -> Vec<pb::CaseItem> {
    items
        .iter()
        .map(|i| pb::CaseItem {
            detail_id: i.detail_id.clone(),
            name: i.name.clone(),
            samples: i.samples,
        })
        .collect()
}

impl From<&cases::CaseInfo> for pb::CaseInfo {
    fn from(c: &cases::CaseInfo) -> Self {
        pb::CaseInfo {
            case_id: c.case_id,
            case_name: c.case_name.clone(),
            requests: items(&c.requests),
            transactions: items(&c.transactions),
        }
    }
}

impl From<&cases::CaseDetail> for pb::CaseReportDetail {
    fn from(c: &cases::CaseDetail) -> Self {
        pb::CaseReportDetail {
            case_id: c.case_id,
            case_name: c.case_name.clone(),
            performance: c.performance.as_ref().map(Into::into),
            detail_datas: c.detail_datas.iter().map(Into::into).collect(),
            custom_transactions: c.custom_transactions.iter().map(Into::into).collect(),
            time_unit: c.time_unit.as_str().into(),
        }
    }
}

impl From<&pts::SampleStat> for pb::SampleStat {
    fn from(s: &pts::SampleStat) -> Self {
        pb::SampleStat {
            name: s.name.clone(),
            count: s.count,
            success_count: s.success_count,
            fail_count: s.fail_count,
            tps: s.tps,
            success_tps: s.success_tps,
            fail_tps: s.fail_tps,
            rt_avg: s.rt_avg,
            rt_min: s.rt_min,
            rt_max: s.rt_max,
            success_rt_avg: s.success_rt_avg,
            success_rt_min: s.success_rt_min,
            success_rt_max: s.success_rt_max,
            success_rt_sum: s.success_rt_sum,
            fail_rt_avg: s.fail_rt_avg,
            fail_rt_min: s.fail_rt_min,
            fail_rt_max: s.fail_rt_max,
            fail_rt_sum: s.fail_rt_sum,
            rt_seg50: s.rt_seg50,
            rt_seg90: s.rt_seg90,
            rt_seg99: s.rt_seg99,
            concurrency: s.concurrency,
            request_bytes_sum: s.request_bytes_sum,
            duration: s.duration,
        }
    }
}
