package shixincheck

import (
	_ "github.com/go-rod/rod"
	_ "github.com/hibiken/asynq"
	_ "github.com/hibiken/asynq/x/metrics"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/image/font/basicfont"
	_ "golang.org/x/text/encoding/simplifiedchinese"
	_ "modernc.org/sqlite"
)
