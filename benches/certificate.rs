//! lms-certificate benchmarks: PDF/A-2u certificates per second on one core (fonts parsed
//! once, template images decoded once), and a 1,000-certificate batch on 2 worker threads
//! (×10 gives the time of the 10,000 batch of the target). Each rendered PDF is consumed
//! by the sink (its length summed) and dropped, as when streamed into a zip.
//!
//! Run: `cargo bench -p lms-benches --bench certificate`.
//! Targets: ≥ 500 certificates/s on one core; 10,000 in under 30 s on 2 cores.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::ops::ControlFlow;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lms_certificate::{
    render, render_batch, render_history, sample_certificate, sample_history, sample_issued_at, sample_person,
    sample_template, verification_code, Certificate, Fonts, Language, Orientation,
};

fn batch(count: usize) -> Vec<Certificate> {
    (0..count)
        .map(|i| {
            let mut certificate = sample_certificate(Some(&format!("Teilnehmerin Nr. {i} Groß-Weiß")));
            certificate.verification_code = verification_code(format!("bench certificate {i}").as_bytes()).expect("code");
            certificate.verification_url = format!("https://lms.example.org/verify/{}", certificate.verification_code);
            certificate
        })
        .collect()
}

fn certificates(c: &mut Criterion) {
    let fonts = Fonts::builtin();
    let template = sample_template(Language::German, Orientation::Portrait);
    let certificate = sample_certificate(None);
    let issued_at = sample_issued_at();
    let size = render(&certificate, &template, &fonts, issued_at).expect("sample renders").len();
    eprintln!("one certificate: {size} bytes");

    let mut group = c.benchmark_group("certificate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("render one (1 core)", |b| {
        b.iter(|| black_box(render(black_box(&certificate), &template, &fonts, issued_at).expect("render")))
    });
    group.finish();

    let items = batch(1_000);
    let mut group = c.benchmark_group("certificate batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(items.len() as u64));
    for workers in [1usize, 2] {
        group.bench_function(format!("1000 certificates, {workers} worker(s)"), |b| {
            b.iter(|| {
                let mut bytes = 0usize;
                render_batch(&items, &template, &fonts, issued_at, NonZeroUsize::new(workers).expect("workers"), |_, pdf| {
                    bytes += pdf.expect("render").len();
                    ControlFlow::Continue(())
                });
                black_box(bytes)
            })
        });
    }
    group.finish();
    if let Some(kib) = lms_benches::peak_rss_kib() {
        eprintln!("peak RSS after the batches: {} MiB", kib / 1024);
    }

    let entries = sample_history(60);
    let person = sample_person(None);
    let mut group = c.benchmark_group("training history");
    group.throughput(Throughput::Elements(1));
    group.bench_function("60 entries (4 pages)", |b| {
        b.iter(|| black_box(render_history(&person, &entries, &template, &fonts, issued_at).expect("history")))
    });
    group.finish();
}

criterion_group!(benches, certificates);
criterion_main!(benches);
