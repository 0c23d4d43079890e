# SPDX-License-Identifier: Apache-2.0
# plot.gp - the chart of docs/benchmarks.md: uringprov's throughput in one openssl speed process
# against -async_jobs and against the worker count, for RSA-2048 and ECDSA P-256 signatures, with
# the default provider's one-process and -multi figures (medians of bench/speed.sh) as lines.
#
#   gnuplot -e "dir='RESULTS'; out='FILE.png'; jobs=16; nproc=2; \
#               a_rsa=..; b_rsa=..; a_ec=..; b_ec=..; note='...'" bench/plot.gp
# Data files (written by bench/run.sh from sweep.tsv): DIR/sweep_<alg>_<jobs|workers>.dat, two
# columns: x, sign/s (median over the repetitions).

set terminal pngcairo noenhanced size 1200,800 font "DejaVu Sans,10"
set output out
set multiplot layout 2,2 title sprintf("uringprov: one openssl speed process vs the default provider (%s)", note)
set grid ytics
set key bottom right
set yrange [0:*]
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 1
set style line 2 lc rgb "#d62728" lw 1.5 dt 2
set style line 3 lc rgb "#7f7f7f" lw 1.5 dt 3

set logscale x 2
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set xlabel "-async_jobs (workers: one per CPU)"
set ylabel "RSA-2048 sign/s"
set title "RSA-2048 sign against -async_jobs"
plot dir."/sweep_rsa2048_jobs.dat" using 1:2 with linespoints ls 1 title "uringprov, 1 process", \
     b_rsa with lines ls 2 title sprintf("default, -multi %d", nproc), \
     a_rsa with lines ls 3 title "default, 1 process"

unset logscale x
set xrange [0.5:4.5]
set xtics 1
set xlabel sprintf("workers (-async_jobs %d)", jobs)
set title "RSA-2048 sign against workers"
plot dir."/sweep_rsa2048_workers.dat" using 1:2 with linespoints ls 1 title "uringprov, 1 process", \
     b_rsa with lines ls 2 title sprintf("default, -multi %d", nproc), \
     a_rsa with lines ls 3 title "default, 1 process"

set logscale x 2
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set xlabel "-async_jobs (workers: one per CPU)"
set ylabel "ECDSA P-256 sign/s"
set title "ECDSA P-256 sign against -async_jobs"
plot dir."/sweep_ecdsap256_jobs.dat" using 1:2 with linespoints ls 1 title "uringprov, 1 process", \
     b_ec with lines ls 2 title sprintf("default, -multi %d", nproc), \
     a_ec with lines ls 3 title "default, 1 process"

unset logscale x
set xrange [0.5:4.5]
set xtics 1
set xlabel sprintf("workers (-async_jobs %d)", jobs)
set title "ECDSA P-256 sign against workers"
plot dir."/sweep_ecdsap256_workers.dat" using 1:2 with linespoints ls 1 title "uringprov, 1 process", \
     b_ec with lines ls 2 title sprintf("default, -multi %d", nproc), \
     a_ec with lines ls 3 title "default, 1 process"

unset multiplot
