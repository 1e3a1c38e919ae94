"""Split-file parsing and path conventions shared by the readers."""

from vireid.datasets.layout import (
    Scan,
    camera_from_path,
    list_images,
    pid_from_path,
    read_id_list,
    read_path_label_list,
)


def test_id_list_accepts_commas_spaces_and_a_trailing_newline(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("1,2, 5 ,\n7 8\n")
    scan = Scan()
    assert read_id_list(path, scan) == [1, 2, 5, 7, 8] and not scan.problems


def test_path_label_list_normalises_paths_and_reports_bad_lines(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("./Visible/1/a.bmp 0\nVisible\\2\\b.bmp 1\n\nonly_a_path.bmp\nc.bmp 1.5\n")
    scan = Scan()
    assert read_path_label_list(path, scan) == [("Visible/1/a.bmp", 0), ("Visible/2/b.bmp", 1)]
    assert scan.problems == [
        f"{path}: line 4: expected '<image path> <integer label>', got 'only_a_path.bmp'",
        f"{path}: line 5: expected '<image path> <integer label>', got 'c.bmp 1.5'",
    ]


def test_identity_and_camera_come_from_path_folders():
    assert pid_from_path("Thermal/317/female_t_1.bmp") == 317
    assert pid_from_path("test_vis/cam7/0042/x.jpg") == 42
    assert pid_from_path("Visible/a.bmp") is None
    assert camera_from_path("test_nir/cam9/0042/x.jpg") == 9
    assert camera_from_path("camera/0042/x.jpg") is None


def test_image_listing_skips_hidden_files_and_records_strays(tmp_path):
    for name in ("b.jpg", "a.PNG", ".DS_Store", "readme.md"):
        (tmp_path / name).write_bytes(b"x")
    scan = Scan()
    assert list_images(tmp_path, tmp_path.parent, scan) == [f"{tmp_path.name}/a.PNG", f"{tmp_path.name}/b.jpg"]
    assert scan.strays == [f"{tmp_path / 'readme.md'}: not an image file in an image folder"]
