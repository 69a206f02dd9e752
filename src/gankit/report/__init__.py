def write_report(run_dir):
    return None
